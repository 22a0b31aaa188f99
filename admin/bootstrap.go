package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/stepgate/stepgate/storage"
)

// BootstrapAdmin is the account that signs in with a password when no SSO is
// configured.
const BootstrapAdmin = "admin"

// SettingBootstrapPasswordHash is the settings key of the bootstrap admin's
// bcrypt password hash.
const SettingBootstrapPasswordHash = "admin.bootstrap_password_hash"

// SettingStore is the part of storage.Store holding settings.
type SettingStore interface {
	storage.Settings
}

// BootstrapStore is what setting the bootstrap password uses: settings, and
// a transaction to change one together with its audit record.
type BootstrapStore interface {
	storage.Settings
	Atomic(ctx context.Context, fn func(tx storage.Store) error) error
}

// ActionBootstrapPassword is the admin record of setting the bootstrap
// admin's password.
const ActionBootstrapPassword = "admin.bootstrap_password.set"

// EnsureBootstrapPassword sets the bootstrap admin password on first start
// and returns it so that it can be shown once. password is used when given
// (STEPGATE_BOOTSTRAP_ADMIN_PASSWORD); otherwise one is generated. On later
// starts it returns "" and changes nothing, unless a password is given, which
// then replaces the stored one (an operator's way to reset it). The new hash
// and the record of the change, by actor, commit together.
func EnsureBootstrapPassword(ctx context.Context, s BootstrapStore, rec *Recorder, actor, password string) (shown string, err error) {
	_, err = s.GetSetting(ctx, SettingBootstrapPasswordHash)
	switch {
	case err == nil && password == "":
		return "", nil
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return "", fmt.Errorf("read bootstrap admin: %w", err)
	}
	generated := password == ""
	if generated {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("generate bootstrap password: %w", err)
		}
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	if len(password) < 12 {
		return "", fmt.Errorf("%w: the bootstrap admin password must have at least 12 characters", ErrInvalid)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash bootstrap password: %w", err)
	}
	err = s.Atomic(ctx, func(tx storage.Store) error {
		if err := tx.SetSetting(ctx, SettingBootstrapPasswordHash, string(hash)); err != nil {
			return err
		}
		return rec.Change(ctx, tx, actor, ActionBootstrapPassword, map[string]any{"account": BootstrapAdmin, "generated": generated})
	})
	if err != nil {
		return "", fmt.Errorf("store bootstrap password: %w", err)
	}
	if !generated {
		return "", nil
	}
	return password, nil
}

// CheckBootstrapPassword reports whether password is the bootstrap admin's.
func CheckBootstrapPassword(ctx context.Context, s SettingStore, password string) (bool, error) {
	hash, err := s.GetSetting(ctx, SettingBootstrapPasswordHash)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read bootstrap admin: %w", err)
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil, nil
}
