package pdp

import (
	"context"
	"errors"
	"time"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
)

// sessionOf is the session a decision is about: the session_id of the
// request (native), subject.properties.session_id (AuthZEN), or the
// verified token's sid claim.
func sessionOf(c *call, in *policy.Input) string {
	if c.session != "" {
		return c.session
	}
	if sid, ok := in.Subject.Properties["session_id"].(string); ok && session.ValidSessionID(sid) {
		return sid
	}
	sid, _ := in.Subject.Claims["sid"].(string)
	return sid
}

// applyElevation lets the policy see the authentication of a step-up the
// session went through, instead of the original login the token carries:
// only for the same client, user and issuer, before the elevation expires,
// and unless the token's own login is more recent than the step-up.
func (s *Service) applyElevation(ctx context.Context, c *call, in *policy.Input, issuer *trust.IssuerConfig) {
	if s.cfg.Elevations == nil || in.Subject.Claims == nil || in.Subject.ID == "" {
		return
	}
	sid := sessionOf(c, in)
	if sid == "" {
		return
	}
	e, err := s.cfg.Elevations.FindElevation(ctx, c.client.ID, sid, c.start)
	if err != nil {
		if !errors.Is(err, session.ErrNoElevation) {
			s.log.WarnContext(ctx, "session elevation unavailable; deciding on the token alone", "err", err)
		}
		return
	}
	if e.Subject != in.Subject.ID || (issuer != nil && e.Issuer != issuer.Issuer) {
		return
	}
	if a := in.Subject.Authn; a != nil && a.AuthTime != nil && *a.AuthTime > e.AuthTime.Unix() {
		return
	}
	facts := map[string]any{"amr": e.Methods, "acr": e.ACR, "auth_time": e.AuthTime.Unix()}
	in.Subject.Authn = policy.NormalizeAuthn(facts, trust.MFAACRValues(issuer), in.Now)
}

// VerifyStepUpSession is VerifyStepUp followed, when it succeeds, by an
// elevation of the session: sessionID as the app names it, else the ID
// token's sid. The elevation lasts until auth_time + the step-up's max_age
// (without max_age, until the ID token expires). It returns a nil
// Elevation when there is no session to elevate, no elevation store, or the
// elevation could not be stored (logged: the step-up itself stands).
func (s *Service) VerifyStepUpSession(ctx context.Context, c clientauth.Client, transactionID, idToken, sessionID string) (*stepup.Result, *session.Elevation, error) {
	if sessionID != "" && !session.ValidSessionID(sessionID) {
		return nil, nil, trust.VerifyErrorf(trust.VerifyInvalidRequest, "session_id must be 1 to %d visible ASCII characters", session.MaxSessionIDLen)
	}
	res, err := s.VerifyStepUp(ctx, c, transactionID, idToken)
	if err != nil || s.cfg.Elevations == nil {
		return res, nil, err
	}
	e, ok := s.elevationFor(c, res, sessionID)
	if !ok {
		return res, nil, nil
	}
	if err := s.cfg.Elevations.SaveElevation(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "session elevation could not be stored; the user will be asked again", "decision_id", e.DecisionID, "err", err)
		return res, nil, nil
	}
	s.recordFlow(ctx, flow.Event{Time: e.CreatedAt, Kind: flow.KindSession, DecisionID: e.DecisionID, ClientID: e.ClientID,
		Subject: e.Subject, Issuer: e.Issuer, Action: res.Transaction.Action, Outcome: "elevated",
		Reasons:  []string{"step-up verified; session elevated until " + e.ExpiresAt.UTC().Format(time.RFC3339)},
		StepUpID: e.StepUpID, SessionID: e.SessionID})
	return res, &e, nil
}

func (s *Service) elevationFor(c clientauth.Client, res *stepup.Result, sessionID string) (session.Elevation, bool) {
	claims, tx := res.Claims, res.Transaction
	sid, _ := claims["sid"].(string)
	if sessionID == "" {
		sessionID = sid
	}
	authTime, ok := policy.NumericClaim(claims["auth_time"])
	if sessionID == "" || !session.ValidSessionID(sessionID) || !ok {
		return session.Elevation{}, false
	}
	now := s.now()
	var until time.Time
	if tx.Requirements.MaxAge != nil {
		until = time.Unix(authTime+*tx.Requirements.MaxAge, 0)
	} else if exp, ok := policy.NumericClaim(claims["exp"]); ok {
		until = time.Unix(exp, 0)
	}
	if !until.After(now) {
		return session.Elevation{}, false
	}
	acr, _ := claims["acr"].(string)
	sub, _ := claims["sub"].(string)
	return session.Elevation{ClientID: c.ID, SessionID: sessionID, Issuer: tx.Issuer, Subject: sub, SID: sid,
		Methods: policy.AMRValues(claims["amr"]), ACR: acr, AuthTime: time.Unix(authTime, 0).UTC(),
		DecisionID: tx.DecisionID, StepUpID: tx.ID, CreatedAt: now, ExpiresAt: until.UTC()}, true
}

func (s *Service) recordFlow(ctx context.Context, ev flow.Event) {
	if s.cfg.Flows == nil {
		return
	}
	if err := s.cfg.Flows.RecordFlow(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "flow event could not be audited", "kind", ev.Kind, "outcome", ev.Outcome, "decision_id", ev.DecisionID, "err", err)
	}
}
