package policy

import (
	"fmt"
	"strings"
)

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

// Describe says in words what r asks for, e.g. "amr any of mfa; max_age 900".
func (r Requirements) Describe() string {
	var parts []string
	if len(r.AMRAny) > 0 {
		parts = append(parts, "amr any of "+strings.Join(r.AMRAny, ","))
	}
	if len(r.ACRValues) > 0 {
		parts = append(parts, "acr one of "+strings.Join(r.ACRValues, ","))
	}
	if r.MaxAge != nil {
		parts = append(parts, fmt.Sprintf("max_age %d", *r.MaxAge))
	}
	if r.NeedsFreshLogin() {
		parts = append(parts, "a fresh login")
	}
	if len(parts) == 0 {
		return "an authentication"
	}
	return strings.Join(parts, "; ")
}
