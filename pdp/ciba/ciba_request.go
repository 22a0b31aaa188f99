package ciba

// Request are the parameters of an OpenID CIBA backchannel authentication
// request, already in the issuer's dialect.
type Request struct {
	LoginHint       string `json:"login_hint,omitempty"`
	BindingMessage  string `json:"binding_message,omitempty"`
	Scope           string `json:"scope"`
	ACRValues       string `json:"acr_values,omitempty"`
	RequestedExpiry int    `json:"requested_expiry,omitempty"`
}
