package session

import (
	"context"
	"errors"
	"time"
)

// ErrNoElevation is returned by an ElevationStore when a session has no
// unexpired elevation.
var ErrNoElevation = errors.New("no session elevation")

// Elevation is "MFA once per session": after a verified step-up, the
// session the app named (or the IdP's sid) counts as authenticated the way
// the step-up was, until ExpiresAt (auth_time + the step-up's max_age), so
// the app's original login token keeps working for the stepped-up actions.
type Elevation struct {
	// ClientID is the decision API client the elevation belongs to; it
	// never applies to another client's decisions.
	ClientID string
	// SessionID is the app's session id, or the IdP's sid.
	SessionID string
	Issuer    string
	Subject   string
	// SID is the step-up ID token's sid claim, so a back-channel logout of
	// that IdP session ends the elevation.
	SID string
	// Methods, ACR and AuthTime are the authentication facts of the step-up.
	Methods  []string
	ACR      string
	AuthTime time.Time
	// DecisionID and StepUpID link it to the decision and transaction.
	DecisionID string
	StepUpID   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// ElevationStore keeps session elevations; the Service uses it.
type ElevationStore interface {
	// SaveElevation creates or replaces the elevation of
	// (ClientID, SessionID).
	SaveElevation(ctx context.Context, e Elevation) error
	// FindElevation returns the elevation of (clientID, sessionID) that
	// has not expired at now, or ErrNoElevation.
	FindElevation(ctx context.Context, clientID, sessionID string, now time.Time) (Elevation, error)
}

// ElevationFilter selects elevations to revoke. Every non-empty field must
// match; at least ClientID+SessionID, Issuer+SID or Issuer+Subject is set.
type ElevationFilter struct {
	ClientID  string
	SessionID string
	Issuer    string
	SID       string
	Subject   string
	// CreatedBefore, when set, spares elevations created at or after it
	// (a replayed logout token cannot end a later session).
	CreatedBefore time.Time
}

// Matches reports whether e is selected by f.
func (f ElevationFilter) Matches(e Elevation) bool {
	eq := func(want, got string) bool { return want == "" || want == got }
	return eq(f.ClientID, e.ClientID) && eq(f.SessionID, e.SessionID) && eq(f.Issuer, e.Issuer) &&
		eq(f.SID, e.SID) && eq(f.Subject, e.Subject) &&
		(f.CreatedBefore.IsZero() || e.CreatedAt.Before(f.CreatedBefore))
}

// Valid reports whether f names a session or a user, so that a bug can
// never revoke every elevation at once.
func (f ElevationFilter) Valid() bool {
	return (f.ClientID != "" && f.SessionID != "") || (f.Issuer != "" && (f.SID != "" || f.Subject != ""))
}

// ElevationRevoker ends elevations; Sessions uses it.
type ElevationRevoker interface {
	// RevokeElevations deletes the elevations f selects and returns them.
	RevokeElevations(ctx context.Context, f ElevationFilter) ([]Elevation, error)
}

// MaxSessionIDLen bounds app-supplied session ids.
const MaxSessionIDLen = 256

// ValidSessionID reports whether id can name a session: 1 to 256 visible
// ASCII characters.
func ValidSessionID(id string) bool {
	if id == "" || len(id) > MaxSessionIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}
