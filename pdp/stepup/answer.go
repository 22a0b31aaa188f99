package stepup

import "time"

// Answer carries everything an app needs to send the user to the IdP
// and to check what comes back.
type Answer struct {
	AuthorizeURL    string    `json:"authorize_url,omitempty"`
	WWWAuthenticate string    `json:"www_authenticate"`
	TransactionID   string    `json:"transaction_id,omitempty"`
	State           string    `json:"state,omitempty"`
	Nonce           string    `json:"nonce,omitempty"`
	CodeVerifier    string    `json:"code_verifier,omitempty"`
	ExpiresAt       time.Time `json:"expires_at,omitzero"`
}
