package storage

import (
	"context"
	"time"
)

// SessionElevation is a session that a verified step-up elevated, keyed by
// (ClientID, SessionID), valid until ExpiresAt.
type SessionElevation struct {
	ClientID   string
	SessionID  string
	Issuer     string
	Subject    string
	SID        string
	Methods    []string
	ACR        string
	AuthTime   time.Time
	DecisionID string
	StepUpID   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// ElevationFilter selects elevations: every non-empty field must match, and
// a non-zero CreatedBefore spares elevations created at or after it.
type ElevationFilter struct {
	ClientID      string
	SessionID     string
	Issuer        string
	SID           string
	Subject       string
	CreatedBefore time.Time
}

// Elevations keeps session elevations: a session a verified step-up
// elevated, found by (ClientID, SessionID) until it expires or a logout
// revokes it.
type Elevations interface {
	// SaveElevation creates or replaces the elevation of (ClientID,
	// SessionID); CreatedAt is set to now when zero. Without a client id,
	// session id or expiry it is refused with ErrInvalid.
	SaveElevation(ctx context.Context, e SessionElevation) error
	// FindElevation returns the elevation of a session whose ExpiresAt is
	// after now, or ErrNotFound.
	FindElevation(ctx context.Context, clientID, sessionID string, now time.Time) (SessionElevation, error)
	// RevokeElevations deletes the elevations f selects in one transaction
	// and returns them (none is no error). A filter naming neither a session
	// (ClientID and SessionID) nor a user (Issuer with SID or Subject) is
	// refused with ErrInvalid, so that a bug never revokes everything.
	RevokeElevations(ctx context.Context, f ElevationFilter) ([]SessionElevation, error)
	// DeleteExpiredElevations removes elevations that expired before the
	// cut-off and returns how many it removed.
	DeleteExpiredElevations(ctx context.Context, before time.Time) (int64, error)
}
