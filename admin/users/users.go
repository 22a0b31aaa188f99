package users

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// Actions recorded in the admin audit trail.
const (
	ActionAdd      = "admin.user.add"
	ActionDisable  = "admin.user.disable"
	ActionEnable   = "admin.user.enable"
	ActionPassword = "admin.user.passwd"
)

// Store is the part of storage.Store the accounts live in; changes go
// through Atomic to commit with their records.
type Store interface {
	storage.AdminUsers
	Atomic(ctx context.Context, fn func(tx storage.Store) error) error
}

// Config wires a Service.
type Config struct {
	Store    Store
	Recorder *admin.Recorder
	// Cost is the bcrypt cost of new hashes; default bcrypt.DefaultCost.
	Cost int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service manages local accounts and verifies their passwords.
type Service struct {
	cfg Config
	// dummy is compared against when a name is unknown, so that an
	// unknown account takes as long as a wrong password.
	dummy []byte
}

// New validates cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Recorder == nil {
		return nil, errors.New("users: Store and Recorder are required")
	}
	if cfg.Cost == 0 {
		cfg.Cost = bcrypt.DefaultCost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("no account has this password"), cfg.Cost)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return &Service{cfg: cfg, dummy: dummy}, nil
}

// nameRE is what an account name may be: lower-case letters, digits and
// . _ @ -, so that it can be an e-mail address but never looks like a
// "cli:" or "system:" actor or an SSO "ISSUER|SUBJECT".
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// CheckName returns why name cannot be an account name, or nil.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: an account name has 1 to 64 lower-case letters, digits and . _ @ -, and starts with a letter or digit", admin.ErrInvalid)
	}
	return nil
}

// List returns every account ordered by name.
func (s *Service) List(ctx context.Context) ([]storage.AdminUser, error) {
	return s.cfg.Store.ListAdminUsers(ctx)
}

// Add creates an enabled account.
func (s *Service) Add(ctx context.Context, actor, name string, role admin.Role, password string) (storage.AdminUser, error) {
	name = strings.TrimSpace(name)
	detail := map[string]any{"account": name, "role": string(role)}
	if err := CheckName(name); err != nil {
		return storage.AdminUser{}, s.refuse(ctx, actor, ActionAdd, err, detail)
	}
	if !role.Valid() {
		return storage.AdminUser{}, s.refuse(ctx, actor, ActionAdd, fmt.Errorf("%w: the role is admin or auditor", admin.ErrInvalid), detail)
	}
	hash, err := s.hash(password, name)
	if err != nil {
		return storage.AdminUser{}, s.refuse(ctx, actor, ActionAdd, err, detail)
	}
	var u storage.AdminUser
	err = s.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		var err error
		u, err = tx.CreateAdminUser(ctx, storage.AdminUser{Name: name, Role: string(role), PasswordHash: hash,
			CreatedAt: s.cfg.Now(), CreatedBy: actor})
		if err != nil {
			return err
		}
		return s.cfg.Recorder.Change(ctx, tx, actor, ActionAdd, detail)
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return storage.AdminUser{}, s.refuse(ctx, actor, ActionAdd, fmt.Errorf("%w: there is already an account named %s", admin.ErrInvalid, name), detail)
	}
	if err != nil {
		return storage.AdminUser{}, fmt.Errorf("add account %s: %w", name, err)
	}
	return u, nil
}

// SetPassword gives an account a new password, which ends its sessions.
func (s *Service) SetPassword(ctx context.Context, actor, name, password string) (storage.AdminUser, error) {
	detail := map[string]any{"account": name}
	hash, err := s.hash(password, name)
	if err != nil {
		return storage.AdminUser{}, s.refuse(ctx, actor, ActionPassword, err, detail)
	}
	return s.update(ctx, actor, ActionPassword, name, detail, func(u *storage.AdminUser) { u.PasswordHash = hash })
}

// Disable stops an account from signing in and ends its sessions. The
// last enabled admin cannot be disabled.
func (s *Service) Disable(ctx context.Context, actor, name, reason string) (storage.AdminUser, error) {
	detail := map[string]any{"account": name, "reason": reason}
	if strings.TrimSpace(reason) == "" {
		return storage.AdminUser{}, s.refuse(ctx, actor, ActionDisable, fmt.Errorf("%w: give a reason for disabling the account", admin.ErrInvalid), detail)
	}
	return s.update(ctx, actor, ActionDisable, name, detail, func(u *storage.AdminUser) { u.Disabled = true })
}

// Enable lets a disabled account sign in again.
func (s *Service) Enable(ctx context.Context, actor, name, reason string) (storage.AdminUser, error) {
	detail := map[string]any{"account": name, "reason": reason}
	if strings.TrimSpace(reason) == "" {
		return storage.AdminUser{}, s.refuse(ctx, actor, ActionEnable, fmt.Errorf("%w: give a reason for enabling the account", admin.ErrInvalid), detail)
	}
	return s.update(ctx, actor, ActionEnable, name, detail, func(u *storage.AdminUser) { u.Disabled = false })
}

// ErrLastAdmin means the change would leave no enabled admin account.
var ErrLastAdmin = fmt.Errorf("%w: this is the last enabled admin account; add or enable another admin first, so that someone can still sign in to administer stepgate", admin.ErrInvalid)

// update changes account name with change and records what, in one
// transaction.
func (s *Service) update(ctx context.Context, actor, what, name string, detail map[string]any, change func(*storage.AdminUser)) (storage.AdminUser, error) {
	var out storage.AdminUser
	err := s.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		u, err := tx.GetAdminUser(ctx, name)
		if err != nil {
			return err
		}
		change(&u)
		u.UpdatedAt = s.cfg.Now()
		if out, err = tx.UpdateAdminUser(ctx, u); err != nil {
			return err
		}
		detail["role"] = out.Role
		return s.cfg.Recorder.Change(ctx, tx, actor, what, detail)
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return storage.AdminUser{}, s.refuse(ctx, actor, what, fmt.Errorf("%w: there is no account named %q", admin.ErrInvalid, name), detail)
	case errors.Is(err, storage.ErrLastAdmin):
		return storage.AdminUser{}, s.refuse(ctx, actor, what, ErrLastAdmin, detail)
	case err != nil:
		return storage.AdminUser{}, fmt.Errorf("change account %s: %w", name, err)
	}
	return out, nil
}

// hash validates password and returns its bcrypt hash.
func (s *Service) hash(password, name string) (string, error) {
	if err := admin.CheckPassword(password); err != nil {
		return "", err
	}
	if strings.EqualFold(password, name) {
		return "", fmt.Errorf("%w: the password must not be the account name", admin.ErrInvalid)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.Cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// refuse records that actor's what was refused and returns the refusal,
// joined with the failure to record it if there was one.
func (s *Service) refuse(ctx context.Context, actor, what string, refusal error, detail map[string]any) error {
	if err := s.cfg.Recorder.Refused(ctx, actor, what, refusal.Error(), detail); err != nil {
		return errors.Join(refusal, err)
	}
	return refusal
}
