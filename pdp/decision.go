package pdp

import (
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
)

// Decision is the answer to one request, as the native API renders it.
type Decision struct {
	ID             string               `json:"decision_id"`
	Outcome        policy.Outcome       `json:"decision"`
	Reasons        []string             `json:"reasons"`
	PolicyRevision int64                `json:"policy_revision"`
	Requirements   *policy.Requirements `json:"requirements,omitempty"`
	StepUp         *StepUpAnswer        `json:"step_up,omitempty"`
	CIBA           *CIBAAnswer          `json:"ciba,omitempty"`
	// WWWAuthenticate is set for an invalid user token
	// (Bearer error="invalid_token") and mirrors StepUp.WWWAuthenticate.
	WWWAuthenticate string `json:"www_authenticate,omitempty"`
}

// StepUpAnswer carries everything an app needs to send the user to the IdP
// and to check what comes back.
type StepUpAnswer struct {
	AuthorizeURL    string    `json:"authorize_url,omitempty"`
	WWWAuthenticate string    `json:"www_authenticate"`
	TransactionID   string    `json:"transaction_id,omitempty"`
	State           string    `json:"state,omitempty"`
	Nonce           string    `json:"nonce,omitempty"`
	CodeVerifier    string    `json:"code_verifier,omitempty"`
	ExpiresAt       time.Time `json:"expires_at,omitzero"`
}

// CIBAAnswer carries the backchannel authentication request parameters and,
// when stepgate runs the exchange itself, where to follow it.
type CIBAAnswer struct {
	Request   CIBARequest `json:"request"`
	ID        string      `json:"id,omitempty"`
	StatusURL string      `json:"status_url,omitempty"`
}

// CIBARequest are the parameters of an OpenID CIBA backchannel authentication
// request, already in the issuer's dialect.
type CIBARequest struct {
	LoginHint       string `json:"login_hint,omitempty"`
	BindingMessage  string `json:"binding_message,omitempty"`
	Scope           string `json:"scope"`
	ACRValues       string `json:"acr_values,omitempty"`
	RequestedExpiry int    `json:"requested_expiry,omitempty"`
}
