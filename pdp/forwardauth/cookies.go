package forwardauth

import (
	"net/http"
	"time"
)

// Session is the content of the session cookie: the verified
// authentication facts of the user's last sign-in or step-up, and what the
// cookie is bound to.
type Session struct {
	// ID is stepgate's own session id: decisions name it (session_id), and
	// sign-out revokes it, so a copied cookie stops counting.
	ID       string   `json:"id"`
	Subject  string   `json:"sub"`
	Issuer   string   `json:"iss"`
	AMR      []string `json:"amr,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	// SID is the IdP's session id, so a back-channel logout ends it.
	SID string `json:"sid,omitempty"`
	// Host is the host the cookie was issued for; on any other it is foreign.
	Host string `json:"host"`
	// Client is the decision API client (the proxy) it was issued through.
	Client  string `json:"client"`
	Expires int64  `json:"exp"`
}

// Claims are the facts as the policy sees them in subject.claims.
func (s Session) Claims() map[string]any {
	c := map[string]any{"sub": s.Subject, "iss": s.Issuer}
	if len(s.AMR) > 0 {
		amr := make([]any, len(s.AMR))
		for i, m := range s.AMR {
			amr[i] = m
		}
		c["amr"] = amr
	}
	if s.ACR != "" {
		c["acr"] = s.ACR
	}
	if s.AuthTime != 0 {
		c["auth_time"] = s.AuthTime
	}
	if s.SID != "" {
		c["sid"] = s.SID
	}
	return c
}

// pending is the content of the cookie that carries a sign-in or step-up
// from the redirect to the callback.
type pending struct {
	Transaction string `json:"tx"`
	State       string `json:"state"`
	Verifier    string `json:"cv"`
	Issuer      string `json:"iss"`
	AppClient   string `json:"app"`
	Return      string `json:"rd"`
	Client      string `json:"client"`
	Host        string `json:"host"`
	// Session is the session a step-up continues; empty for a sign-in.
	Session string `json:"sid,omitempty"`
	Expires int64  `json:"exp"`
}

// cookie builds a host-only (no Domain), HttpOnly, SameSite=Lax cookie,
// Secure on https.
func cookie(name, value, scheme string, expires time.Time) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: scheme == "https"}
	if value == "" {
		c.MaxAge = -1
	} else if !expires.IsZero() {
		c.Expires = expires.UTC()
	}
	return c
}
