package ciba

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stepgate/stepgate/pdp/trust"
)

// ErrRequestRefused is wrapped by CheckRequest's errors: the request is not
// one the issuer's dialect accepts, so it is never sent.
var ErrRequestRefused = errors.New("ciba request not accepted by the provider's rules")

// CheckRequest checks a backchannel request against what the issuer's
// dialect documents, before anything is sent, so that a request the
// provider would refuse fails here with a clear error instead of with an
// opaque invalid_request from the provider. For Auth0: a binding message
// (required) of at most 64 characters of A-Z a-z 0-9, space and + - _ . , : #,
// and a login_hint in the iss_sub JSON format naming this issuer. For other
// dialects the binding message, when present, keeps to the dialect's rule.
func CheckRequest(iss *trust.IssuerConfig, r Request) error {
	dialect := trust.DialectGeneric
	if iss != nil {
		dialect = iss.Dialect
	}
	rule := bindingRuleFor(dialect)
	switch {
	case r.BindingMessage == "" && dialect == trust.DialectAuth0:
		return fmt.Errorf("%w: auth0 requires a binding_message (%s)", ErrRequestRefused, rule.name)
	case r.BindingMessage != "" && !rule.valid(r.BindingMessage):
		return fmt.Errorf("%w: binding_message %q is not accepted by %s providers (allowed: %s)",
			ErrRequestRefused, shorten(r.BindingMessage, 80), dialect, rule.name)
	case r.LoginHint == "":
		return fmt.Errorf("%w: login_hint is empty", ErrRequestRefused)
	}
	if dialect == trust.DialectAuth0 && iss != nil {
		if err := checkIssSub(r.LoginHint, iss.Issuer); err != nil {
			return fmt.Errorf("%w: %w", ErrRequestRefused, err)
		}
	}
	return nil
}

// checkIssSub checks an Auth0 login_hint: the JSON object
// {"format": "iss_sub", "iss": <the issuer>, "sub": <the user id>}.
func checkIssSub(hint, issuer string) error {
	var h map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(hint)))
	if err := dec.Decode(&h); err != nil || dec.More() {
		return errors.New(`login_hint must be the iss_sub JSON object {"format":"iss_sub","iss":"…","sub":"…"} for auth0`)
	}
	format, _ := h["format"].(string)
	iss, _ := h["iss"].(string)
	sub, _ := h["sub"].(string)
	switch {
	case format != "iss_sub":
		return fmt.Errorf("login_hint format %v is not iss_sub", h["format"])
	case iss != issuer:
		return fmt.Errorf("login_hint iss %q is not the issuer %q", shorten(iss, 128), issuer)
	case sub == "":
		return errors.New("login_hint sub must be a non-empty string")
	case len(h) != 3:
		return errors.New("login_hint must have only format, iss and sub")
	}
	return nil
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
