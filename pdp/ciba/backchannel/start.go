package backchannel

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const opStart = "backchannel authentication request"

// Request is one backchannel authentication request (OpenID CIBA Core §7.1).
// Exactly one of LoginHint, LoginHintToken and IDTokenHint is set.
type Request struct {
	// Scope is space-separated and must contain openid.
	Scope          string
	LoginHint      string
	LoginHintToken string
	IDTokenHint    string
	// BindingMessage is shown on both devices. It is sent as given: callers
	// restrict it to what their IdP accepts before it gets here.
	BindingMessage string
	UserCode       string
	// RequestedExpiry in seconds; 0 leaves the choice to the IdP.
	RequestedExpiry int
	// ACRValues in order of preference.
	ACRValues []string
}

// Ack is the authorization server's acknowledgement (CIBA Core §7.3).
type Ack struct {
	AuthReqID string `json:"auth_req_id"`
	// ExpiresIn is the lifetime of AuthReqID in seconds.
	ExpiresIn int `json:"expires_in"`
	// Interval is the minimum wait between polls in seconds; 0 when the
	// server sent none (the CIBA default is then 5 s).
	Interval int `json:"interval"`
}

// Validate checks what CIBA requires of a request before it is sent.
func (r Request) Validate() error {
	hints := 0
	for _, h := range []string{r.LoginHint, r.LoginHintToken, r.IDTokenHint} {
		if h != "" {
			hints++
		}
	}
	switch {
	case hints != 1:
		return fmt.Errorf("%w: exactly one of login_hint, login_hint_token and id_token_hint is required, got %d", ErrInvalidRequest, hints)
	case !slices.Contains(strings.Fields(r.Scope), "openid"):
		return fmt.Errorf("%w: scope %q does not contain openid", ErrInvalidRequest, r.Scope)
	case r.RequestedExpiry < 0:
		return fmt.Errorf("%w: requested_expiry %d is negative", ErrInvalidRequest, r.RequestedExpiry)
	}
	return nil
}

func (r Request) form() url.Values {
	f := url.Values{"scope": {r.Scope}}
	set := func(k, v string) {
		if v != "" {
			f.Set(k, v)
		}
	}
	set("login_hint", r.LoginHint)
	set("login_hint_token", r.LoginHintToken)
	set("id_token_hint", r.IDTokenHint)
	set("binding_message", r.BindingMessage)
	set("user_code", r.UserCode)
	set("acr_values", strings.Join(r.ACRValues, " "))
	if r.RequestedExpiry > 0 {
		f.Set("requested_expiry", strconv.Itoa(r.RequestedExpiry))
	}
	return f
}

// Start sends the backchannel authentication request. An invalid request
// fails with ErrInvalidRequest without contacting the server; an error
// answer (unknown_user_id, invalid_client, …) is an *Error.
func (c *Client) Start(ctx context.Context, ep Endpoints, creds Credentials, r Request) (Ack, error) {
	if err := r.Validate(); err != nil {
		return Ack{}, err
	}
	var ack Ack
	if err := c.post(ctx, opStart, ep.Backchannel, creds, r.form(), &ack); err != nil {
		return Ack{}, err
	}
	switch {
	case ack.AuthReqID == "":
		return Ack{}, &Error{Op: opStart, StatusCode: 200, Description: "response has no auth_req_id"}
	case ack.ExpiresIn <= 0:
		return Ack{}, &Error{Op: opStart, StatusCode: 200, Description: fmt.Sprintf("response has expires_in %d", ack.ExpiresIn)}
	case ack.Interval < 0:
		return Ack{}, &Error{Op: opStart, StatusCode: 200, Description: fmt.Sprintf("response has interval %d", ack.Interval)}
	}
	return ack, nil
}
