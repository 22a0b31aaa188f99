package storage

import (
	"context"
	"errors"
	"time"
)

// Admin user roles as stored; the admin package gives them meaning.
const (
	AdminRoleAdmin   = "admin"
	AdminRoleAuditor = "auditor"
)

// ErrLastAdmin means a change would leave no enabled user with the admin
// role, so that nobody could sign in to undo it. Nothing was changed.
var ErrLastAdmin = errors.New("storage: the last enabled admin cannot be disabled or demoted")

// AdminUser is a local account of the admin UI, signing in with a password.
type AdminUser struct {
	// Name is the account name; unique, and never reused because accounts
	// are disabled, not deleted.
	Name string
	// Role is AdminRoleAdmin or AdminRoleAuditor.
	Role string
	// PasswordHash is the bcrypt hash of the password.
	PasswordHash string
	// Disabled accounts cannot sign in, and their sessions end.
	Disabled bool
	// Version changes with every update (password, role, disabling), so
	// that a session can tell it was opened under older credentials.
	// Stores set it: 1 on create, +1 on every update.
	Version int64
	// CreatedAt (set to now when zero) and CreatedBy (the actor).
	CreatedAt time.Time
	CreatedBy string
	// UpdatedAt is the time of the last change.
	UpdatedAt time.Time
}

// AdminUsers keeps local admin UI accounts (AdminUser).
type AdminUsers interface {
	// CreateAdminUser stores a new account with Version 1;
	// ErrAlreadyExists when the name is taken.
	CreateAdminUser(ctx context.Context, u AdminUser) (AdminUser, error)
	// GetAdminUser returns an account, or ErrNotFound.
	GetAdminUser(ctx context.Context, name string) (AdminUser, error)
	// ListAdminUsers returns every account ordered by name.
	ListAdminUsers(ctx context.Context) ([]AdminUser, error)
	// UpdateAdminUser replaces Role, PasswordHash, Disabled and UpdatedAt
	// of an existing account and increments its Version, returning the
	// result; ErrNotFound when it does not exist. It returns ErrLastAdmin,
	// changing nothing, when afterwards no enabled account would have the
	// admin role; concurrent updates (also from other processes) cannot
	// together get round that.
	UpdateAdminUser(ctx context.Context, u AdminUser) (AdminUser, error)
}
