package pdp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// LogoutVerifier verifies back-channel logout tokens; *Verifier implements it.
type LogoutVerifier interface {
	VerifyLogoutToken(ctx context.Context, raw string) (*LogoutToken, error)
}

// SessionsConfig wires Sessions. Store and Verifier are required.
type SessionsConfig struct {
	Store    ElevationRevoker
	Verifier LogoutVerifier
	// Audit records every revoked elevation; nil records nothing.
	Audit FlowAuditor
	// IATSkew is how far after a logout token's iat an elevation may have
	// been created and still be ended by it (clock differences); default 5s.
	IATSkew time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
}

// Sessions ends session elevations: on the app's request (POST
// /v1/sessions/{sid}/revoke) and on the IdP's (OpenID Connect Back-Channel
// Logout, POST /v1/backchannel-logout).
type Sessions struct {
	cfg SessionsConfig
	log *slog.Logger
}

// NewSessions validates cfg and returns Sessions.
func NewSessions(cfg SessionsConfig) (*Sessions, error) {
	if cfg.Store == nil || cfg.Verifier == nil {
		return nil, errors.New("pdp: sessions config: Store and Verifier are required")
	}
	cfg.IATSkew = cmp.Or(cfg.IATSkew, 5*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sessions{cfg: cfg, log: cfg.Logger}, nil
}

// Revoke ends the elevation of one of the client's sessions and returns how
// many it ended (0 when there was none: revoking is idempotent).
func (s *Sessions) Revoke(ctx context.Context, c Client, sessionID string) (int, error) {
	if !ValidSessionID(sessionID) {
		return 0, invalid("session id must be 1 to %d visible ASCII characters", maxSessionIDLen)
	}
	return s.revoke(ctx, ElevationFilter{ClientID: c.ID, SessionID: sessionID}, "revoked by client "+c.ID)
}

// ErrInvalidLogoutToken wraps every rejection of a logout token; the
// message is safe to return to the IdP.
var ErrInvalidLogoutToken = errors.New("invalid logout token")

// Logout verifies a back-channel logout token and ends the elevations of
// the IdP session it names (sid), or of every session of its subject when
// it names a sub. Only elevations created before the token was issued are
// ended, so a replayed token cannot end a later login.
func (s *Sessions) Logout(ctx context.Context, rawLogoutToken string) (int, error) {
	if rawLogoutToken == "" {
		return 0, fmt.Errorf("%w: logout_token is required", ErrInvalidLogoutToken)
	}
	lt, err := s.cfg.Verifier.VerifyLogoutToken(ctx, rawLogoutToken)
	if err != nil {
		var te *TokenError
		if errors.As(err, &te) && te.Code == TokenDiscoveryFailed {
			return 0, fmt.Errorf("back-channel logout: %w", err)
		}
		return 0, fmt.Errorf("%w: %w", ErrInvalidLogoutToken, err)
	}
	f := ElevationFilter{Issuer: lt.Issuer, CreatedBefore: lt.IssuedAt.Add(s.cfg.IATSkew)}
	if lt.Subject != "" {
		// A sub-wide logout, or sub and sid together: ending every
		// elevation of the user only costs extra prompts, never access.
		f.Subject = lt.Subject
	} else {
		f.SID = lt.SID
	}
	return s.revoke(ctx, f, "back-channel logout from "+lt.Issuer+" (jti "+lt.JTI+")")
}

func (s *Sessions) revoke(ctx context.Context, f ElevationFilter, why string) (int, error) {
	if !f.Valid() {
		return 0, invalid("a session or a user must be named")
	}
	gone, err := s.cfg.Store.RevokeElevations(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("revoke session elevations: %w", err)
	}
	for _, e := range gone {
		s.audit(ctx, e, why)
	}
	return len(gone), nil
}

func (s *Sessions) audit(ctx context.Context, e Elevation, why string) {
	s.log.InfoContext(ctx, "session elevation revoked", "client_id", e.ClientID, "session_id", e.SessionID, "subject", e.Subject, "reason", why)
	if s.cfg.Audit == nil {
		return
	}
	ev := FlowEvent{Time: s.cfg.Now(), Kind: FlowSession, DecisionID: e.DecisionID, ClientID: e.ClientID,
		Subject: e.Subject, Issuer: e.Issuer, Outcome: "revoked", Reasons: []string{why},
		StepUpID: e.StepUpID, SessionID: e.SessionID}
	if err := s.cfg.Audit.RecordFlow(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "session revocation could not be audited", "session_id", e.SessionID, "err", err)
	}
}
