package storage

import (
	"context"
	"time"
)

// AdminSessions keeps the admin UI's sessions and pending SSO logins. The
// record is opaque data (the admin package encodes it) under the SHA-256 of
// the cookie value, so that a database reader cannot sign in with it.
type AdminSessions interface {
	// PutAdminSession creates or replaces the session stored under keyHash
	// with data and its expiry; an empty keyHash is refused with ErrInvalid.
	PutAdminSession(ctx context.Context, keyHash string, data []byte, expiresAt time.Time) error
	// GetAdminSession returns the data stored under keyHash, or ErrNotFound.
	// It does not check the expiry: the caller decides what expired means
	// (idle and absolute timeouts), and DeleteExpiredAdminSessions sweeps.
	GetAdminSession(ctx context.Context, keyHash string) ([]byte, error)
	// DeleteAdminSession removes a session; deleting an absent one is no
	// error, so a sign-out can be repeated.
	DeleteAdminSession(ctx context.Context, keyHash string) error
	// DeleteExpiredAdminSessions removes sessions that expired strictly
	// before the cut-off and returns how many it removed.
	DeleteExpiredAdminSessions(ctx context.Context, before time.Time) (int64, error)
}
