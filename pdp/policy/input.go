package policy

// Input is the document every policy sees as `input`. It uses AuthZEN's
// entities so that one policy serves the native API and AuthZEN alike.
type Input struct {
	Subject  Subject        `json:"subject"`
	Action   Action         `json:"action"`
	Resource Resource       `json:"resource"`
	Context  map[string]any `json:"context"`
	// Now is stepgate's clock in Unix seconds; callers can never supply it.
	Now    int64  `json:"now"`
	Client Caller `json:"client"`
}

// Subject is the user the decision is about.
type Subject struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
	// Claims holds only verified claims: from a token stepgate verified, or
	// asserted by a client allowed to assert them.
	Claims map[string]any `json:"claims"`
	// Authn is filled by stepgate from Claims (see NormalizeAuthn).
	Authn *Authn `json:"authn,omitempty"`
}

// Action is what the subject wants to do.
type Action struct {
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties"`
}

// Resource is what the action is done to.
type Resource struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
}

// Caller identifies the authenticated API client that asked for the decision.
type Caller struct {
	ID string `json:"id"`
}

// Authn is the authentication facts normalised across IdP dialects, so that
// policies need no IdP knowledge. Age is present only with AuthTime.
type Authn struct {
	Methods  []string `json:"methods"`
	MFA      bool     `json:"mfa"`
	ACR      string   `json:"acr,omitempty"`
	AuthTime *int64   `json:"auth_time,omitempty"`
	Age      *int64   `json:"age,omitempty"`
	// CIBACapable is filled from the issuer's enrollment lookup, only
	// when the decision depends on it (see CIBACapability).
	CIBACapable CIBACapability `json:"ciba_capable,omitempty"`
}
