package pdp

import "time"

// Outcome is one of the four answers stepgate gives.
type Outcome string

// The outcomes of a decision.
const (
	Allow  Outcome = "allow"
	Deny   Outcome = "deny"
	StepUp Outcome = "step_up"
	CIBA   Outcome = "ciba"
)

// Valid reports whether o is one of the four outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case Allow, Deny, StepUp, CIBA:
		return true
	}
	return false
}

// Requirements say what authentication would satisfy the policy.
type Requirements struct {
	ACRValues []string `json:"acr_values,omitempty"`
	AMRAny    []string `json:"amr_any,omitempty"`
	// MaxAge is in seconds; nil means no freshness requirement.
	MaxAge *int64 `json:"max_age,omitempty"`
	// FreshLogin asks for a re-authentication, not a freshness window:
	// the step-up's ID token must show an auth_time later than the moment
	// the user was sent to the IdP. MaxAge 0 asks for the same.
	FreshLogin bool `json:"fresh_login,omitempty"`
}

// Empty reports whether r asks for nothing.
func (r Requirements) Empty() bool {
	return len(r.ACRValues) == 0 && len(r.AMRAny) == 0 && r.MaxAge == nil && !r.FreshLogin
}

// NeedsFreshLogin reports whether r asks for a new login (FreshLogin, or
// MaxAge 0) rather than an authentication within a window, which a
// provider may rightly answer from a session that already meets it.
func (r Requirements) NeedsFreshLogin() bool {
	return r.FreshLogin || (r.MaxAge != nil && *r.MaxAge == 0)
}

// RequestMaxAge is the max_age to send to the IdP: 0 for a fresh login
// (the OpenID Connect way to force one), else the requirement's window.
func (r Requirements) RequestMaxAge() *int64 {
	if r.NeedsFreshLogin() {
		zero := int64(0)
		return &zero
	}
	return r.MaxAge
}

// Decision is the answer to one request, as the native API renders it.
type Decision struct {
	ID             string        `json:"decision_id"`
	Outcome        Outcome       `json:"decision"`
	Reasons        []string      `json:"reasons"`
	PolicyRevision int64         `json:"policy_revision"`
	Requirements   *Requirements `json:"requirements,omitempty"`
	StepUp         *StepUpAnswer `json:"step_up,omitempty"`
	CIBA           *CIBAAnswer   `json:"ciba,omitempty"`
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
