package pdp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp/clientauth"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"

	"github.com/stepgate/stepgate/pdp/backchannel"
)

// CIBAStart is a POST /v1/ciba request: either the id of a `ciba` decision,
// or an explicit user and binding message (clients allowed to assert claims
// only, because they name the user themselves).
type CIBAStart struct {
	DecisionID string
	// Issuer of the explicit user; may be empty when exactly one issuer has
	// a CIBA client.
	Issuer string
	// Subject is the user's sub; the login_hint is built from it in the
	// issuer's dialect. LoginHint, instead, is passed as given.
	Subject   string
	LoginHint string
	// BindingMessage must be valid for the issuer's dialect; empty
	// generates one from Action.
	BindingMessage string
	Action         string
	Requirements   policy.Requirements
}

// CIBAIdPError is the IdP refusing a backchannel request (unknown user,
// invalid binding message, bad client credentials, …).
type CIBAIdPError struct{ Err error }

func (e *CIBAIdPError) Error() string {
	return "the identity provider refused the ciba request: " + e.Err.Error()
}
func (e *CIBAIdPError) Unwrap() error { return e.Err }

// Start sends the backchannel authentication request and returns it pending.
// Starting the same decision's offer again returns the running request's
// status instead of notifying the user twice. The start, or its failure
// with the IdP's error code, is an audit record.
func (r *CIBARunner) Start(ctx context.Context, c clientauth.Client, in CIBAStart) (*CIBAStatus, error) {
	var (
		o   CIBAOffer
		err error
	)
	if in.DecisionID != "" {
		if in.Issuer != "" || in.Subject != "" || in.LoginHint != "" || in.BindingMessage != "" {
			return nil, clientauth.Invalidf("send either decision_id or an explicit user, not both")
		}
		o, err = r.cfg.Offers.CIBAOfferByDecision(ctx, in.DecisionID)
		if errors.Is(err, ErrCIBAOfferNotFound) || (err == nil && o.ClientID != c.ID) {
			return nil, fmt.Errorf("%w: decision %s offered no ciba request stepgate runs", ErrCIBANotFound, shorten(in.DecisionID, 64))
		}
	} else {
		o, err = r.explicitOffer(ctx, c, in)
	}
	if err != nil {
		return nil, err
	}
	started, err := r.cfg.Offers.StartCIBAOffer(ctx, o.ID, r.cfg.Now())
	switch {
	case errors.Is(err, ErrCIBAOfferUsed):
		return r.Status(ctx, c, o.ID)
	case errors.Is(err, ErrCIBAOfferExpired):
		return nil, ErrCIBAOfferGone
	case err != nil:
		return nil, fmt.Errorf("%w: start ciba offer: %w", ErrCIBAUnavailable, err)
	}
	req := backchannel.Request{Scope: started.Request.Scope, LoginHint: started.Request.LoginHint,
		BindingMessage: started.Request.BindingMessage, RequestedExpiry: started.Request.RequestedExpiry,
		ACRValues: strings.Fields(started.Request.ACRValues)}
	rec, err := r.poller.Begin(ctx, backchannel.Origin{ID: started.ID, DecisionID: started.DecisionID, Issuer: started.Issuer}, req)
	if err != nil {
		r.audit(ctx, started, string(backchannel.StatusError), startErrorCode(err), "the backchannel request could not be started: "+err.Error(), nil)
		var be *backchannel.Error
		if errors.As(err, &be) && !be.Temporary() {
			return nil, &CIBAIdPError{Err: be}
		}
		return nil, fmt.Errorf("%w: %w", ErrCIBAUnavailable, err)
	}
	r.audit(ctx, started, cibaStarted, "", fmt.Sprintf("backchannel request acknowledged by %s; binding message %s; expires at %s",
		started.Issuer, started.Request.BindingMessage, rec.ExpiresAt.UTC().Format(time.RFC3339)), nil)
	return r.statusOf(started, rec), nil
}

// explicitOffer validates an explicit start and stores it as an offer, so
// that it is read, verified and audited like one a decision left.
func (r *CIBARunner) explicitOffer(ctx context.Context, c clientauth.Client, in CIBAStart) (CIBAOffer, error) {
	if !c.AssertClaims {
		return CIBAOffer{}, fmt.Errorf("%w: client %q may not name a user for ciba; start it from a decision_id", clientauth.ErrForbidden, c.ID)
	}
	if (in.Subject == "") == (in.LoginHint == "") {
		return CIBAOffer{}, clientauth.Invalidf("send decision_id, or exactly one of subject and login_hint")
	}
	if in.Action != "" && !ValidAction(in.Action) {
		return CIBAOffer{}, clientauth.Invalidf("action %q must match %s", shorten(in.Action, 64), actionPattern)
	}
	ic, err := r.cibaIssuer(in.Issuer)
	if err != nil {
		return CIBAOffer{}, err
	}
	hint := in.LoginHint
	if hint == "" {
		if hint, err = cibaLoginHint(&ic, map[string]any{"sub": in.Subject, "iss": ic.Issuer}); err != nil {
			return CIBAOffer{}, clientauth.Invalidf("%s; send login_hint instead", err)
		}
	}
	msg := in.BindingMessage
	if rule := bindingRuleFor(ic.Dialect); msg != "" && !rule.valid(msg) {
		return CIBAOffer{}, clientauth.Invalidf("binding_message is not accepted by %s providers (allowed: %s)", ic.Dialect, rule.name)
	}
	if msg == "" {
		if msg, err = generatedBindingMessage(in.Action); err != nil {
			return CIBAOffer{}, err
		}
	}
	id, err := randomToken(16)
	if err != nil {
		return CIBAOffer{}, err
	}
	req := in.Requirements
	req.ACRValues = effectiveACR(&ic, req)
	now := r.cfg.Now()
	o := CIBAOffer{ID: id, ClientID: c.ID, Issuer: ic.Issuer, Subject: in.Subject, Action: in.Action,
		Request: CIBARequest{LoginHint: hint, BindingMessage: msg, Scope: "openid",
			ACRValues: strings.Join(req.ACRValues, " "), RequestedExpiry: r.cfg.RequestedExpiry},
		Requirements: req, CreatedAt: now, ExpiresAt: now.Add(r.cfg.OfferTTL)}
	if err := r.cfg.Offers.SaveCIBAOffer(ctx, o); err != nil {
		return CIBAOffer{}, fmt.Errorf("%w: store ciba request: %w", ErrCIBAUnavailable, err)
	}
	return o, nil
}

// cibaIssuer returns the named issuer, or the only one stepgate runs CIBA for.
func (r *CIBARunner) cibaIssuer(name string) (trust.IssuerConfig, error) {
	if name != "" {
		ic, ok := r.cfg.Verifier.Issuer(name)
		if !ok || ic.CIBA == nil {
			return trust.IssuerConfig{}, clientauth.Invalidf("issuer %q is not configured with a ciba client", shorten(name, 128))
		}
		return ic, nil
	}
	var found []trust.IssuerConfig
	for _, ic := range r.cfg.Verifier.Issuers() {
		if ic.CIBA != nil {
			found = append(found, ic)
		}
	}
	if len(found) != 1 {
		return trust.IssuerConfig{}, clientauth.Invalidf("issuer is required: %d issuers have a ciba client", len(found))
	}
	return found[0], nil
}

// expiresIn is the whole seconds left until t, never negative.
func expiresIn(t, now time.Time) int64 {
	return max(int64(t.Sub(now)/time.Second), 0)
}
