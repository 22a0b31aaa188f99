package ciba

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Status is what POST /v1/ciba and GET /v1/ciba/{id} answer.
type Status struct {
	ID         string `json:"id"`
	DecisionID string `json:"decision_id,omitempty"`
	// Status is pending | approved | denied | expired | error.
	Status backchannel.Status `json:"status"`
	// ExpiresIn is the seconds left while pending.
	ExpiresIn      int64  `json:"expires_in,omitempty"`
	BindingMessage string `json:"binding_message,omitempty"`
	// Claims are the verified ID token claims of an approval.
	Claims map[string]any `json:"claims,omitempty"`
	// Error says why a request was denied, expired or failed.
	Error string `json:"error_description,omitempty"`
}

// Status reports where a CIBA request stands. An approval whose ID token
// was not verified yet (the process stopped in between) is verified now.
func (r *Runner) Status(ctx context.Context, c clientauth.Client, id string) (*Status, error) {
	o, err := r.cfg.Offers.GetCIBAOffer(ctx, id)
	switch {
	case errors.Is(err, ErrOfferNotFound) || (err == nil && o.ClientID != c.ID):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("%w: read ciba offer: %w", ErrUnavailable, err)
	case o.StartedAt == nil:
		return nil, fmt.Errorf("%w: POST /v1/ciba with decision_id %s starts it", ErrNotStarted, o.DecisionID)
	}
	rec, err := r.poller.Get(ctx, id)
	if errors.Is(err, backchannel.ErrNotFound) {
		// Started, but the IdP refused or could not be reached (audited then).
		return &Status{ID: id, DecisionID: o.DecisionID, Status: backchannel.StatusError,
			BindingMessage: o.Request.BindingMessage, Error: "the backchannel request could not be started"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read ciba request: %w", ErrUnavailable, err)
	}
	if rec.Status == backchannel.StatusApproved && rec.IDToken != "" {
		r.settle(ctx, o, rec.IDToken)
		if rec, err = r.poller.Get(ctx, id); err != nil {
			return nil, fmt.Errorf("%w: read ciba request: %w", ErrUnavailable, err)
		}
	}
	return r.statusOf(o, rec), nil
}

func (r *Runner) statusOf(o Offer, rec backchannel.Record) *Status {
	st := &Status{ID: rec.ID, DecisionID: rec.DecisionID, Status: rec.Status,
		BindingMessage: o.Request.BindingMessage}
	switch rec.Status {
	case backchannel.StatusPending:
		st.ExpiresIn = expiresIn(rec.ExpiresAt, r.cfg.Now())
	case backchannel.StatusApproved:
		if rec.IDToken != "" || len(rec.Claims) == 0 {
			// Not settled: never report an unverified approval as one.
			st.Status, st.Error = backchannel.StatusPending, ""
			return st
		}
		dec := json.NewDecoder(bytes.NewReader(rec.Claims))
		dec.UseNumber()
		if err := dec.Decode(&st.Claims); err != nil {
			st.Status, st.Claims, st.Error = backchannel.StatusError, nil, "stored claims are unreadable"
		}
	default:
		st.Error = rec.Error
	}
	return st
}

// verifyApproval checks the ID token with the step-up's check (CheckProof):
// issued by the offer's issuer to its CIBA client, validly signed and
// unexpired, for the user asked about, with amr/acr meeting the decision's
// requirements. An approval is always a new authentication on the user's
// device, so its auth_time must also be later than the request was sent
// (a fresh login), whatever the requirement's max_age.
func (r *Runner) verifyApproval(ctx context.Context, o Offer, raw string) (map[string]any, error) {
	ic, ok := r.cfg.Verifier.Issuer(o.Issuer)
	if !ok || ic.CIBA == nil {
		return nil, fmt.Errorf("issuer %q has no ciba client configured any more", o.Issuer)
	}
	tok, err := r.cfg.Verifier.VerifyIDToken(ctx, raw, o.Issuer, ic.CIBA.ClientID)
	if err != nil {
		return nil, err
	}
	p := trust.Proof{Subject: o.Subject, Requirements: o.Requirements, Skew: r.cfg.AuthTimeSkew,
		MFAACR: tok.Issuer.EffectiveMFAACRValues()}
	p.Requirements.FreshLogin = true
	if o.StartedAt != nil {
		p.RequestedAt = *o.StartedAt
	}
	if _, verr := trust.CheckProof(tok.Claims, p, r.cfg.Now()); verr != nil {
		return nil, verr
	}
	return tok.Claims, nil
}
