//go:build unix

package flowtest

import (
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

// otherAppID is a second app at the same provider, which shares the
// user's provider session (single sign-on) with the app stepgate serves.
const otherAppID = "reports-web"

// realIdP is the test provider with the app and CIBA clients, and stepgate
// configured for it.
type realIdP struct {
	p     *pdptest.OIDCProvider
	oauth oauth2.Config
	// other is the second app's own client.
	other oauth2.Config
}

func startRealIdP(t testing.TB) (*realIdP, trust.IssuerConfig) {
	t.Helper()
	p := pdptest.StartOIDCProvider(t, pdptest.ProviderConfig{
		Clients: []pdptest.ProviderClient{pdptest.AppClient(appID, redirectURI), pdptest.AppClient(otherAppID, redirectURI),
			pdptest.CIBAClient(cibaID, cibaSecret)},
		Users: []pdptest.ProviderUser{{Sub: pdptest.TestUsername, Username: pdptest.TestUsername,
			Password: pdptest.TestPassword, OTP: pdptest.TestOTP, Email: "alice@example.test"}},
		Resource: resource,
	})
	// The keycloak dialect asks for MFA with an essential acr claims
	// request: acr_values is voluntary, and oidc-provider answers it with
	// the user's existing, fresh password login.
	ic := trust.IssuerConfig{Issuer: p.Issuer(), Audiences: []string{resource, appID},
		Dialect: trust.DialectKeycloak, MFAACRValues: []string{trust.PAPEMultiFactor},
		Authorize: &trust.AuthorizeConfig{ClientID: appID, RedirectURI: redirectURI, Scopes: []string{"openid", "email"}},
		CIBA:      &trust.CIBAConfig{ClientID: cibaID, ClientSecret: cibaSecret, LoginHint: "sub"}}
	ep := oauth2.Endpoint{AuthURL: p.AuthorizationEndpoint(), TokenURL: p.TokenEndpoint(), AuthStyle: oauth2.AuthStyleInParams}
	return &realIdP{p: p,
		oauth: oauth2.Config{ClientID: appID, RedirectURL: redirectURI, Scopes: []string{"openid", "email"}, Endpoint: ep},
		other: oauth2.Config{ClientID: otherAppID, RedirectURL: redirectURI, Scopes: []string{"openid"}, Endpoint: ep}}, ic
}

// otherAppMFA is the second app's own step-up in browser b: it asks the
// provider for an MFA login (essential acr claim) and logs in with the OTP,
// which makes the shared provider session an MFA one.
func (r *realIdP) otherAppMFA(t testing.TB, b *pdptest.Browser) {
	t.Helper()
	verifier, state := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	u := r.other.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["`+trust.PAPEMultiFactor+`"]}}}`))
	back := b.Login(t, u, pdptest.TestUsername, pdptest.TestPassword, pdptest.TestOTP)
	if back.Query().Get("code") == "" || back.Query().Get("state") != state {
		t.Fatalf("the other app's MFA login came back with %s", back.RawQuery)
	}
}

// tokens are what the app holds after a code exchange.
type tokens struct{ access, id string }

// signIn is the app's own first login: password only, with its own state,
// nonce and PKCE, in browser b.
func (r *realIdP) signIn(t testing.TB, b *pdptest.Browser) tokens {
	t.Helper()
	verifier, state := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	u := r.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", oauth2.GenerateVerifier()))
	back := b.Login(t, u, pdptest.TestUsername, pdptest.TestPassword, "")
	return r.exchange(t, back, state, verifier)
}

// exchange checks state on the redirect back and redeems the code with the
// PKCE verifier, as the app's callback does.
func (r *realIdP) exchange(t testing.TB, back *url.URL, state, verifier string) tokens {
	t.Helper()
	if e := back.Query().Get("error"); e != "" {
		t.Fatalf("provider answered %s: %s", e, back.Query().Get("error_description"))
	}
	if got := back.Query().Get("state"); got != state {
		t.Fatalf("state = %q, want %q", got, state)
	}
	tok, err := r.oauth.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	id, _ := tok.Extra("id_token").(string)
	return tokens{access: tok.AccessToken, id: id}
}

// stripped removes query parameters from an authorize URL, as a user (or
// a careless app) can.
func stripped(t testing.TB, raw string, params ...string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for _, p := range params {
		q.Del(p)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
