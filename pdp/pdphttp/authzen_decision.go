package pdphttp

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
)

// azDecision is one AuthZEN decision. It is exactly {"decision": b} unless
// there is something the caller can act on.
type azDecision struct {
	Decision bool       `json:"decision"`
	Context  *azContext `json:"context,omitempty"`
}

// azContext is the decision context stepgate gives: for step_up and ciba
// what the user has to do, for a rejected user token the RFC 6750 challenge,
// for an invalid batch item the error. Plain allow and deny carry none (the
// reasons are in the audit trail, found by X-Request-ID or decision id).
type azContext struct {
	// Outcome is stepgate's own answer behind decision=false.
	Outcome    policy.Outcome `json:"outcome,omitempty"`
	DecisionID string         `json:"decision_id,omitempty"`
	Reasons    []string       `json:"reasons,omitempty"`
	ACRValues  []string       `json:"acr_values,omitempty"`
	AMRAny     []string       `json:"amr_any,omitempty"`
	MaxAge     *int64         `json:"max_age,omitempty"`
	// Step-up: where to send the browser, the RFC 9470 challenge for APIs
	// and the transaction to finish with POST /v1/stepup/verify.
	AuthorizeURL    string    `json:"authorize_url,omitempty"`
	WWWAuthenticate string    `json:"www_authenticate,omitempty"`
	TransactionID   string    `json:"transaction_id,omitempty"`
	State           string    `json:"state,omitempty"`
	Nonce           string    `json:"nonce,omitempty"`
	CodeVerifier    string    `json:"code_verifier,omitempty"`
	ExpiresAt       time.Time `json:"expires_at,omitzero"`
	// CIBA: the backchannel request, and where to follow it when started.
	CIBA  *pdp.CIBAAnswer `json:"ciba,omitempty"`
	Error *azError        `json:"error,omitempty"`
}

// azError is the context of a batch item that could not be evaluated.
type azError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// authzenDecision maps stepgate's four outcomes onto AuthZEN's boolean:
// only allow is true.
func authzenDecision(d *pdp.Decision) azDecision {
	if d.Outcome == policy.Allow {
		return azDecision{Decision: true}
	}
	if d.Outcome != policy.StepUp && d.Outcome != policy.CIBA && d.WWWAuthenticate == "" {
		return azDecision{Decision: false}
	}
	ctx := &azContext{Outcome: d.Outcome, DecisionID: d.ID, Reasons: d.Reasons, WWWAuthenticate: d.WWWAuthenticate, CIBA: d.CIBA}
	if r := d.Requirements; r != nil {
		ctx.ACRValues, ctx.AMRAny, ctx.MaxAge = r.ACRValues, r.AMRAny, r.MaxAge
	}
	if su := d.StepUp; su != nil {
		ctx.AuthorizeURL, ctx.WWWAuthenticate = su.AuthorizeURL, su.WWWAuthenticate
		ctx.TransactionID, ctx.State, ctx.Nonce = su.TransactionID, su.State, su.Nonce
		ctx.CodeVerifier, ctx.ExpiresAt = su.CodeVerifier, su.ExpiresAt
	}
	return azDecision{Decision: false, Context: ctx}
}

// itemError is the in-place answer for an invalid batch item.
func itemError(err error) azDecision {
	msg := err.Error()
	if errors.Is(err, clientauth.ErrInvalidRequest) {
		msg = strings.TrimPrefix(msg, errPrefix)
	}
	return azDecision{Decision: false, Context: &azContext{Error: &azError{Status: http.StatusBadRequest, Message: msg}}}
}
