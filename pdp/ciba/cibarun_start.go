package ciba

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// StartRequest is a POST /v1/ciba request: either the id of a `ciba` decision,
// or an explicit user and binding message (clients allowed to assert claims
// only, because they name the user themselves).
type StartRequest struct {
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

// IdPError is the IdP refusing a backchannel request (unknown user,
// invalid binding message, bad client credentials, …).
type IdPError struct{ Err error }

func (e *IdPError) Error() string {
	return "the identity provider refused the ciba request: " + e.Err.Error()
}
func (e *IdPError) Unwrap() error { return e.Err }

// Start sends the backchannel authentication request and returns it pending.
// Starting the same decision's offer again returns the running request's
// status instead of notifying the user twice. The start, or its failure
// with the IdP's error code, is an audit record.
func (r *Runner) Start(ctx context.Context, c clientauth.Client, in StartRequest) (*Status, error) {
	var (
		o   Offer
		err error
	)
	if in.DecisionID != "" {
		if in.Issuer != "" || in.Subject != "" || in.LoginHint != "" || in.BindingMessage != "" {
			return nil, clientauth.Invalidf("send either decision_id or an explicit user, not both")
		}
		o, err = r.cfg.Offers.CIBAOfferByDecision(ctx, in.DecisionID)
		if errors.Is(err, ErrOfferNotFound) || (err == nil && o.ClientID != c.ID) {
			return nil, fmt.Errorf("%w: decision %s offered no ciba request stepgate runs", ErrNotFound, clientauth.Shorten(in.DecisionID, 64))
		}
	} else {
		o, err = r.explicitOffer(ctx, c, in)
	}
	if err != nil {
		return nil, err
	}
	if ic, ok := r.cfg.Verifier.Issuer(o.Issuer); ok {
		if err := CheckRequest(&ic, o.Request); err != nil {
			return nil, clientauth.Invalidf("%s", err)
		}
	}
	started, err := r.cfg.Offers.StartCIBAOffer(ctx, o.ID, r.cfg.Now())
	switch {
	case errors.Is(err, ErrOfferUsed):
		return r.Status(ctx, c, o.ID)
	case errors.Is(err, ErrOfferExpired):
		return nil, ErrOfferGone
	case err != nil:
		return nil, fmt.Errorf("%w: start ciba offer: %w", ErrUnavailable, err)
	}
	req := backchannel.Request{Scope: started.Request.Scope, LoginHint: started.Request.LoginHint,
		BindingMessage: started.Request.BindingMessage, RequestedExpiry: started.Request.RequestedExpiry,
		ACRValues: strings.Fields(started.Request.ACRValues)}
	rec, err := r.poller.Begin(ctx, backchannel.Origin{ID: started.ID, DecisionID: started.DecisionID, Issuer: started.Issuer}, req)
	r.drain(ctx) // the pending report Begin sent
	if err != nil {
		r.audit(ctx, started, string(backchannel.StatusError), startErrorCode(err), "the backchannel request could not be started: "+err.Error(), nil)
		var be *backchannel.Error
		if errors.As(err, &be) && !be.Temporary() {
			return nil, &IdPError{Err: be}
		}
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	r.audit(ctx, started, cibaStarted, "", fmt.Sprintf("backchannel request acknowledged by %s; binding message %s; expires at %s",
		started.Issuer, started.Request.BindingMessage, rec.ExpiresAt.UTC().Format(time.RFC3339)), nil)
	return r.statusOf(started, rec), nil
}

// explicitOffer validates an explicit start and stores it as an offer, so
// that it is read, verified and audited like one a decision left.
func (r *Runner) explicitOffer(ctx context.Context, c clientauth.Client, in StartRequest) (Offer, error) {
	if !c.AssertClaims {
		return Offer{}, fmt.Errorf("%w: client %q may not name a user for ciba; start it from a decision_id", clientauth.ErrForbidden, c.ID)
	}
	if (in.Subject == "") == (in.LoginHint == "") {
		return Offer{}, clientauth.Invalidf("send decision_id, or exactly one of subject and login_hint")
	}
	if in.Action != "" && !policy.ValidAction(in.Action) {
		return Offer{}, clientauth.Invalidf("action %q must match %s", clientauth.Shorten(in.Action, 64), policy.ActionPattern)
	}
	ic, err := r.cibaIssuer(in.Issuer)
	if err != nil {
		return Offer{}, err
	}
	hint := in.LoginHint
	if hint == "" {
		if hint, err = LoginHint(&ic, map[string]any{"sub": in.Subject, "iss": ic.Issuer}); err != nil {
			return Offer{}, clientauth.Invalidf("%s; send login_hint instead", err)
		}
	}
	msg := in.BindingMessage
	if rule := bindingRuleFor(ic.Dialect); msg != "" && !rule.valid(msg) {
		return Offer{}, clientauth.Invalidf("binding_message is not accepted by %s providers (allowed: %s)", ic.Dialect, rule.name)
	}
	if msg == "" {
		if msg, err = generatedBindingMessage(in.Action); err != nil {
			return Offer{}, err
		}
	}
	if err := CheckRequest(&ic, Request{LoginHint: hint, BindingMessage: msg, Scope: "openid"}); err != nil {
		return Offer{}, clientauth.Invalidf("%s", err)
	}
	id := rand.Text()
	req := in.Requirements
	req.ACRValues = trust.EffectiveACR(&ic, req)
	now := r.cfg.Now()
	o := Offer{ID: id, ClientID: c.ID, Issuer: ic.Issuer, Subject: in.Subject, Action: in.Action,
		Request: Request{LoginHint: hint, BindingMessage: msg, Scope: "openid",
			ACRValues: strings.Join(req.ACRValues, " "), RequestedExpiry: r.cfg.RequestedExpiry},
		Requirements: req, CreatedAt: now, ExpiresAt: now.Add(r.cfg.OfferTTL)}
	if err := r.cfg.Offers.SaveCIBAOffer(ctx, o); err != nil {
		return Offer{}, fmt.Errorf("%w: store ciba request: %w", ErrUnavailable, err)
	}
	return o, nil
}

// cibaIssuer returns the named issuer, or the only one stepgate runs CIBA for.
func (r *Runner) cibaIssuer(name string) (trust.IssuerConfig, error) {
	if name != "" {
		ic, ok := r.cfg.Verifier.Issuer(name)
		if !ok || ic.CIBA == nil {
			return trust.IssuerConfig{}, clientauth.Invalidf("issuer %q is not configured with a ciba client", clientauth.Shorten(name, 128))
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
