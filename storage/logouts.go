package storage

import (
	"context"
	"time"
)

// SessionLogout is a "logout mark": a session that ended, so that a token
// of it no longer counts as a login. It names either an IdP session
// (Issuer and SID, from an OpenID Connect Back-Channel Logout), every
// session of a user at an IdP (Issuer and Subject without SID, a sub-wide
// logout), or one session of a decision API client (ClientID and
// SessionID, POST /v1/sessions/{sid}/revoke). At is when the session
// ended: the logout token's iat, or the revocation time. Tokens whose
// login is older than At belong to the ended session; later logins do not.
type SessionLogout struct {
	// ID is assigned by the store, positive and increasing, so that
	// replicas can follow new marks incrementally.
	ID        int64
	Issuer    string
	SID       string
	Subject   string
	ClientID  string
	SessionID string
	// JTI is the logout token's jti, for the record.
	JTI string
	At  time.Time
	// CreatedAt is when the mark was stored; ExpiresAt when it may be
	// forgotten (no token of the session can still be presented).
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Valid reports whether l names a session or a user and has its times, so
// that a bug can never store a mark that ends everything or nothing.
func (l SessionLogout) Valid() bool {
	named := (l.ClientID != "" && l.SessionID != "") || (l.Issuer != "" && (l.SID != "" || l.Subject != ""))
	return named && !l.At.IsZero() && !l.ExpiresAt.IsZero()
}

// Logouts keeps logout marks (SessionLogout), which every replica follows.
type Logouts interface {
	// SaveLogout stores a logout mark and returns it with its store-assigned
	// ID (positive, increasing in commit order as far as the database
	// allows) and CreatedAt (now when zero). A mark that is not Valid is
	// refused with ErrInvalid.
	SaveLogout(ctx context.Context, l SessionLogout) (SessionLogout, error)
	// LogoutsAfter returns up to limit marks with an ID greater than
	// afterID that have not expired at now, in ascending ID order.
	LogoutsAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]SessionLogout, error)
	// DeleteExpiredLogouts removes marks that expired before the cut-off
	// and returns how many it removed.
	DeleteExpiredLogouts(ctx context.Context, before time.Time) (int64, error)
}
