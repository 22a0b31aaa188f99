package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stepgate/stepgate/storage"
)

// BootstrapAdmin is the local account created on first start, so that
// someone can sign in before any other account or SSO exists.
const BootstrapAdmin = "admin"

// MinPasswordLength and MaxPasswordLength bound local passwords; bcrypt
// uses at most 72 bytes, and a longer password would be silently cut.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 72
)

// CheckPassword returns why password is not acceptable for a local
// account, or nil.
func CheckPassword(password string) error {
	switch {
	case len(password) < MinPasswordLength:
		return fmt.Errorf("%w: the password must have at least %d characters", ErrInvalid, MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return fmt.Errorf("%w: the password must have at most %d bytes", ErrInvalid, MaxPasswordLength)
	}
	return nil
}

// BootstrapStore is what setting the bootstrap password uses: the local
// accounts, and a transaction to change one together with its record.
type BootstrapStore interface {
	storage.AdminUsers
	Atomic(ctx context.Context, fn func(tx storage.Store) error) error
}

// ActionBootstrapPassword is the admin record of setting the bootstrap
// admin's password.
const ActionBootstrapPassword = "admin.bootstrap_password.set"

// EnsureBootstrapPassword creates the bootstrap admin account on first
// start and returns its password so that it can be shown once. password is
// used when given (STEPGATE_BOOTSTRAP_ADMIN_PASSWORD); otherwise one is
// generated. On later starts it returns "" and changes nothing, unless a
// password is given that is not the account's already: it then replaces
// the stored one (an operator's way to reset it), which ends the
// account's sessions; a disabled bootstrap admin stays disabled. The
// account and the record of the change, by actor, commit together.
func EnsureBootstrapPassword(ctx context.Context, s BootstrapStore, rec *Recorder, actor, password string) (shown string, err error) {
	existing, err := s.GetAdminUser(ctx, BootstrapAdmin)
	switch {
	case err == nil && password == "":
		return "", nil
	case err == nil && bcrypt.CompareHashAndPassword([]byte(existing.PasswordHash), []byte(password)) == nil:
		return "", nil
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return "", fmt.Errorf("read bootstrap admin: %w", err)
	}
	exists := err == nil
	generated := password == ""
	if generated {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("generate bootstrap password: %w", err)
		}
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	if err := CheckPassword(password); err != nil {
		return "", fmt.Errorf("the bootstrap admin password: %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash bootstrap password: %w", err)
	}
	err = s.Atomic(ctx, func(tx storage.Store) error {
		if exists {
			existing.PasswordHash, existing.UpdatedAt = string(hash), time.Time{}
			if _, err := tx.UpdateAdminUser(ctx, existing); err != nil {
				return err
			}
		} else if _, err := tx.CreateAdminUser(ctx, storage.AdminUser{Name: BootstrapAdmin, Role: string(RoleAdmin),
			PasswordHash: string(hash), CreatedBy: actor}); err != nil {
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
