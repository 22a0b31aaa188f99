package pdp

import (
	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/stepup"
)

// Decision is the answer to one request, as the native API renders it.
type Decision struct {
	ID             string               `json:"decision_id"`
	Outcome        policy.Outcome       `json:"decision"`
	Reasons        []string             `json:"reasons"`
	PolicyRevision int64                `json:"policy_revision"`
	Requirements   *policy.Requirements `json:"requirements,omitempty"`
	StepUp         *stepup.Answer       `json:"step_up,omitempty"`
	CIBA           *CIBAAnswer          `json:"ciba,omitempty"`
	// WWWAuthenticate is set for an invalid user token
	// (Bearer error="invalid_token") and mirrors StepUp.WWWAuthenticate.
	WWWAuthenticate string `json:"www_authenticate,omitempty"`
}

// CIBAAnswer carries the backchannel authentication request parameters and,
// when stepgate runs the exchange itself, where to follow it.
type CIBAAnswer struct {
	Request   ciba.Request `json:"request"`
	ID        string       `json:"id,omitempty"`
	StatusURL string       `json:"status_url,omitempty"`
}
