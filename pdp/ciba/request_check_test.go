package ciba_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/trust"
)

func TestCheckRequest(t *testing.T) {
	auth0 := &trust.IssuerConfig{Issuer: "https://tenant.eu.auth0.com/", Dialect: trust.DialectAuth0}
	keycloak := &trust.IssuerConfig{Issuer: "https://kc.example/realms/main", Dialect: trust.DialectKeycloak}
	hint, err := ciba.LoginHint(auth0, map[string]any{"sub": "auth0|u1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		iss     *trust.IssuerConfig
		req     ciba.Request
		wantErr string
	}{
		{"auth0 ok", auth0, ciba.Request{LoginHint: hint, BindingMessage: "Pay 120,000 JPY: order #42"}, ""},
		{"auth0 64 characters", auth0, ciba.Request{LoginHint: hint, BindingMessage: strings.Repeat("a", 64)}, ""},
		{"auth0 65 characters", auth0, ciba.Request{LoginHint: hint, BindingMessage: strings.Repeat("a", 65)}, "at most 64 characters"},
		{"auth0 forbidden character", auth0, ciba.Request{LoginHint: hint, BindingMessage: "Pay ¥120"}, "is not accepted by auth0 providers"},
		{"auth0 needs a binding message", auth0, ciba.Request{LoginHint: hint}, "auth0 requires a binding_message"},
		{"auth0 plain sub hint", auth0, ciba.Request{LoginHint: "auth0|u1", BindingMessage: "PAY-1"}, "must be the iss_sub JSON object"},
		{"auth0 other issuer", auth0, ciba.Request{LoginHint: `{"format":"iss_sub","iss":"https://evil/","sub":"u"}`, BindingMessage: "PAY-1"}, `is not the issuer "https://tenant.eu.auth0.com/"`},
		{"auth0 wrong format", auth0, ciba.Request{LoginHint: `{"format":"email","iss":"https://tenant.eu.auth0.com/","sub":"u"}`, BindingMessage: "PAY-1"}, "is not iss_sub"},
		{"auth0 empty sub", auth0, ciba.Request{LoginHint: `{"format":"iss_sub","iss":"https://tenant.eu.auth0.com/","sub":""}`, BindingMessage: "PAY-1"}, "non-empty"},
		{"auth0 extra member", auth0, ciba.Request{LoginHint: `{"format":"iss_sub","iss":"https://tenant.eu.auth0.com/","sub":"u","x":1}`, BindingMessage: "PAY-1"}, "only format, iss and sub"},
		{"auth0 trailing data", auth0, ciba.Request{LoginHint: hint + "{}", BindingMessage: "PAY-1"}, "iss_sub JSON object"},
		{"keycloak username", keycloak, ciba.Request{LoginHint: "alice", BindingMessage: "PAY-1"}, ""},
		{"keycloak no spaces", keycloak, ciba.Request{LoginHint: "alice", BindingMessage: "Pay now"}, "not accepted by keycloak providers"},
		{"empty hint", keycloak, ciba.Request{BindingMessage: "PAY-1"}, "login_hint is empty"},
		{"no issuer portable rule", nil, ciba.Request{LoginHint: "u", BindingMessage: strings.Repeat("a", 21)}, "1-20 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ciba.CheckRequest(tc.iss, tc.req)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ciba.ErrRequestRefused) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}
