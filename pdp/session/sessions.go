package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/trust"
)

// LogoutVerifier verifies back-channel logout tokens; *Verifier implements it.
type LogoutVerifier interface {
	VerifyLogoutToken(ctx context.Context, raw string) (*trust.LogoutToken, error)
}

// SessionsConfig wires Sessions. Store and Verifier are required.
type SessionsConfig struct {
	Store    ElevationRevoker
	Verifier LogoutVerifier
	// Logouts, when set, records every logout and revocation as a logout
	// mark, so that decisions for a token of the ended session answer
	// step_up on every replica; nil ends elevations only.
	Logouts *Logouts
	// Audit records every logout received and every revoked elevation;
	// nil records nothing.
	Audit flow.Auditor
	// IATSkew is how far after a logout token's iat an elevation may have
	// been created and still be ended by it (clock differences); default 5s.
	IATSkew time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
}

// Sessions ends sessions: on the app's request (POST
// /v1/sessions/{sid}/revoke) and on the IdP's (OpenID Connect Back-Channel
// Logout, POST /v1/backchannel-logout). Ending one stores a logout mark
// (see Logouts), then ends its elevations, then audits it.
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

// Revoke ends one of the client's sessions: logins to it until now no
// longer count for the client's decisions, and its elevation ends. It
// returns how many elevations it ended (0 when there was none: revoking
// is idempotent).
func (s *Sessions) Revoke(ctx context.Context, c clientauth.Client, sessionID string) (int, error) {
	if !ValidSessionID(sessionID) {
		return 0, clientauth.Invalidf("session id must be 1 to %d visible ASCII characters", MaxSessionIDLen)
	}
	why := "revoked by client " + c.ID
	if err := s.mark(ctx, Logout{ClientID: c.ID, SessionID: sessionID, At: s.cfg.Now()}, why); err != nil {
		return 0, err
	}
	return s.revoke(ctx, ElevationFilter{ClientID: c.ID, SessionID: sessionID}, why)
}

// ErrLogoutNotRecorded means a logout could not be stored or audited; the
// sender should retry (a back-channel logout answers 5xx).
var ErrLogoutNotRecorded = errors.New("the logout could not be recorded")

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
		var te *trust.TokenError
		if errors.As(err, &te) && te.Code == trust.TokenDiscoveryFailed {
			return 0, fmt.Errorf("back-channel logout: %w", err)
		}
		return 0, fmt.Errorf("%w: %w", ErrInvalidLogoutToken, err)
	}
	why := "back-channel logout from " + lt.Issuer + " (jti " + lt.JTI + ")"
	m := Logout{Issuer: lt.Issuer, SID: lt.SID, Subject: lt.Subject, JTI: lt.JTI, At: lt.IssuedAt}
	if err := s.mark(ctx, m, why); err != nil {
		return 0, err
	}
	f := ElevationFilter{Issuer: lt.Issuer, CreatedBefore: lt.IssuedAt.Add(s.cfg.IATSkew)}
	if lt.Subject != "" {
		// A sub-wide logout, or sub and sid together: ending every
		// elevation of the user only costs extra prompts, never access.
		f.Subject = lt.Subject
	} else {
		f.SID = lt.SID
	}
	return s.revoke(ctx, f, why)
}

func (s *Sessions) revoke(ctx context.Context, f ElevationFilter, why string) (int, error) {
	if !f.Valid() {
		return 0, clientauth.Invalidf("a session or a user must be named")
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
	ev := flow.Event{Time: s.cfg.Now(), Kind: flow.KindSession, DecisionID: e.DecisionID, ClientID: e.ClientID,
		Subject: e.Subject, Issuer: e.Issuer, Outcome: "revoked", Reasons: []string{why},
		StepUpID: e.StepUpID, SessionID: e.SessionID}
	if err := s.cfg.Audit.RecordFlow(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "session revocation could not be audited", "session_id", e.SessionID, "err", err)
	}
}

// mark stores the logout mark m (when Logouts is set) and audits the
// logout as a session record with outcome "logout". Both must succeed
// before the logout is acknowledged: an IdP that gets an error retries,
// and storing the same mark again is harmless.
func (s *Sessions) mark(ctx context.Context, m Logout, why string) error {
	if s.cfg.Logouts != nil {
		saved, err := s.cfg.Logouts.Record(ctx, m)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrLogoutNotRecorded, err)
		}
		m = saved
	}
	s.log.InfoContext(ctx, "session ended", "issuer", m.Issuer, "sid", m.SID, "subject", m.Subject,
		"client_id", m.ClientID, "session_id", m.SessionID, "reason", why)
	if s.cfg.Audit == nil {
		return nil
	}
	ev := flow.Event{Time: s.cfg.Now(), Kind: flow.KindSession, ClientID: m.ClientID, Subject: m.Subject, Issuer: m.Issuer,
		Outcome: "logout", Reasons: []string{why + ": logins to the session before " +
			m.At.UTC().Truncate(time.Second).Format(time.RFC3339) + " no longer count"},
		SessionID: m.SessionID, SID: m.SID}
	if err := s.cfg.Audit.RecordFlow(ctx, ev); err != nil {
		return fmt.Errorf("%w: audit: %w", ErrLogoutNotRecorded, err)
	}
	return nil
}
