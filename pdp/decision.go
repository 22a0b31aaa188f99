package pdp

import (
	"time"

	"github.com/stepgate/stepgate/pdp/ciba"
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
	Request   ciba.Request `json:"request"`
	ID        string       `json:"id,omitempty"`
	StatusURL string       `json:"status_url,omitempty"`
}
