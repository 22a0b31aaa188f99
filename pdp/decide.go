package pdp

import (
	"context"
	"errors"
	"strings"

	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
)

// decide runs one call through verification, policy and answer shaping. It
// never fails: every error becomes a deny with a reason.
func (s *Service) decide(ctx context.Context, c *call) (*Decision, AuditEvent) {
	d := &Decision{ID: newDecisionID()}
	in := c.input
	in.Now = c.start.Unix()
	in.Client = policy.Caller{ID: c.client.ID}
	if in.Subject.Type == "" {
		in.Subject.Type = "user"
	}
	ev := AuditEvent{Time: c.start, DecisionID: d.ID, RequestID: RequestIDFrom(ctx), API: c.api, ClientID: c.client.ID,
		Action: in.Action.Name, ResourceType: in.Resource.Type, ResourceID: in.Resource.ID}

	var issuer *trust.IssuerConfig
	if c.token != "" {
		tok, err := s.cfg.Verifier.Verify(ctx, c.token)
		if err != nil {
			s.tokenRejected(ctx, d, err)
			return s.finish(c, d, ev)
		}
		in.Subject.Claims = tok.Claims
		in.Subject.ID = tok.Subject
		iss := tok.Issuer
		issuer = &iss
	} else if in.Subject.Claims != nil {
		issuer = s.issuerForClaims(in.Subject.Claims)
		if sub, _ := in.Subject.Claims["sub"].(string); sub != "" {
			in.Subject.ID = sub
		}
	}
	if in.Subject.Claims != nil {
		in.Subject.Authn = policy.NormalizeAuthn(in.Subject.Claims, trust.MFAACRValues(issuer), in.Now)
		ev.Issuer, _ = in.Subject.Claims["iss"].(string)
	}
	s.applyElevation(ctx, c, in, issuer)
	ev.Subject = in.Subject.ID

	res, enrolled := s.evaluate(ctx, in, issuer)
	if why, ended := s.sessionLogout(c, in, issuer); ended {
		res = loggedOut(res, why)
	}
	d.Outcome, d.Reasons, d.PolicyRevision = res.Outcome, res.Reasons, res.Revision
	ev.PolicyRevision, ev.PolicyHash = res.Revision, res.Hash
	if res.Err != nil {
		s.log.ErrorContext(ctx, "policy evaluation failed closed", "decision_id", d.ID, "revision", res.Revision, "err", res.Err)
		if s.cfg.Observer != nil {
			s.cfg.Observer.ObservePolicyError()
			if errors.Is(res.Err, context.DeadlineExceeded) {
				s.cfg.Observer.ObservePolicyTimeout()
			}
		}
	}
	switch res.Outcome {
	case policy.StepUp:
		s.shapeStepUp(ctx, c, d, issuer, res)
		ev.StepUpID = transactionID(d)
	case policy.CIBA:
		s.shapeCIBA(c, d, issuer, res)
		s.offerCIBA(ctx, c, d, issuer)
		if d.CIBA != nil {
			ev.CIBAID = d.CIBA.ID
		}
	}
	if d.Reasons == nil {
		d.Reasons = []string{}
	}
	ev.Input, ev.InputDigest = redactedRecord(auditedInput{Input: in, CIBAEnrollment: enrolled}, s.cfg.RedactClaims)
	return s.finish(c, d, ev)
}

func (s *Service) finish(c *call, d *Decision, ev AuditEvent) (*Decision, AuditEvent) {
	ev.Outcome, ev.Reasons = d.Outcome, d.Reasons
	ev.Latency = s.now().Sub(c.start)
	return d, ev
}

func transactionID(d *Decision) string {
	if d.StepUp != nil {
		return d.StepUp.TransactionID
	}
	return ""
}

// tokenRejected turns a verification failure into a deny. A defect of the
// token earns the RFC 6750 invalid_token challenge; an IdP outage does not,
// because the user cannot fix it by signing in again.
func (s *Service) tokenRejected(ctx context.Context, d *Decision, err error) {
	d.Outcome = policy.Deny
	var te *trust.TokenError
	code := "invalid"
	if errors.As(err, &te) {
		code = te.Code
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.ObserveTokenRejected(code)
	}
	if code == trust.TokenDiscoveryFailed {
		s.log.WarnContext(ctx, "token issuer unavailable", "decision_id", d.ID, "err", err)
		d.Reasons = []string{"the user's token could not be verified: its identity provider is unavailable"}
		return
	}
	d.Reasons = []string{err.Error()}
	d.WWWAuthenticate = stepup.InvalidTokenChallenge(err.Error())
}

// issuerForClaims picks the issuer for asserted claims: the one named by
// `iss`, else the only issuer with an authorize client, else none.
func (s *Service) issuerForClaims(claims map[string]any) *trust.IssuerConfig {
	if iss, _ := claims["iss"].(string); iss != "" {
		if ic, ok := s.cfg.Verifier.Issuer(iss); ok {
			return &ic
		}
		return nil
	}
	var found *trust.IssuerConfig
	for _, ic := range s.cfg.Verifier.Issuers() {
		if ic.Authorize != nil || ic.CIBA != nil {
			if found != nil {
				return nil
			}
			found = &ic
		}
	}
	return found
}

func (s *Service) shapeStepUp(ctx context.Context, c *call, d *Decision, issuer *trust.IssuerConfig, res policy.Result) {
	reason := ""
	if len(res.Reasons) > 0 {
		reason = res.Reasons[0]
	}
	ans, err := s.stepUp.Begin(ctx, stepup.Plan{Issuer: issuer, Claims: c.input.Subject.Claims, Requirements: res.Requirements,
		Reason: reason, DecisionID: d.ID, ClientID: c.client.ID, ReturnTo: c.returnTo, Action: c.input.Action.Name})
	if err != nil {
		s.log.ErrorContext(ctx, "step-up could not be prepared; failing closed", "decision_id", d.ID, "err", err)
		d.Outcome = policy.Deny
		d.Reasons = append(d.Reasons, "step-up unavailable: "+err.Error())
		return
	}
	req := res.Requirements
	req.ACRValues = trust.EffectiveACR(issuer, req)
	d.Requirements, d.StepUp = &req, ans
	d.WWWAuthenticate = ans.WWWAuthenticate
	if ans.AuthorizeURL == "" {
		d.Reasons = append(d.Reasons, "no identity provider with an authorize client is configured for this user; only the RFC 9470 challenge is available")
	}
}

// shapeCIBA builds the backchannel authentication request in the issuer's
// dialect. A user the IdP cannot be told about (no usable login hint) makes
// the decision a deny: there is no way to get approval.
func (s *Service) shapeCIBA(c *call, d *Decision, issuer *trust.IssuerConfig, res policy.Result) {
	claims := c.input.Subject.Claims
	if claims == nil {
		claims = map[string]any{"sub": c.input.Subject.ID}
	}
	hint, err := ciba.LoginHint(issuer, claims)
	if err != nil {
		d.Outcome = policy.Deny
		d.Reasons = append(d.Reasons, "ciba unavailable: "+err.Error())
		return
	}
	dialect := trust.DialectGeneric
	if issuer != nil {
		dialect = issuer.Dialect
	}
	msg, note, err := ciba.BindingMessage(dialect, res.CIBAMessage, c.input.Action.Name)
	if err != nil {
		d.Outcome = policy.Deny
		d.Reasons = append(d.Reasons, "ciba unavailable: "+err.Error())
		return
	}
	if note != "" {
		d.Reasons = append(d.Reasons, note)
	}
	req := res.Requirements
	req.ACRValues = trust.EffectiveACR(issuer, req)
	cr := ciba.Request{
		LoginHint:       hint,
		BindingMessage:  msg,
		Scope:           "openid",
		ACRValues:       strings.Join(req.ACRValues, " "),
		RequestedExpiry: s.cfg.CIBARequestedExpiry,
	}
	if err := ciba.CheckRequest(issuer, cr); err != nil {
		d.Outcome = policy.Deny
		d.Reasons = append(d.Reasons, "ciba unavailable: "+err.Error())
		return
	}
	d.Requirements = &req
	d.CIBA = &CIBAAnswer{Request: cr}
}
