//go:build unix

package pdptest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

const (
	appClientID = "stepgate-app"
	redirectURI = "http://127.0.0.1:9/callback" // never contacted: Login stops before it
)

// authClaims are the authentication facts the provider puts into tokens.
type authClaims struct {
	Sub      string   `json:"sub"`
	ACR      string   `json:"acr"`
	AMR      []string `json:"amr"`
	AuthTime int64    `json:"auth_time"`
	Nonce    string   `json:"nonce"`
}

// rp is a minimal relying party for driving the code flow in tests.
type rp struct {
	p        *pdptest.OIDCProvider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newRP(t testing.TB) *rp {
	t.Helper()
	p := pdptest.StartOIDCProvider(t, pdptest.ProviderConfig{
		Clients: []pdptest.ProviderClient{pdptest.AppClient(appClientID, redirectURI)},
	})
	provider, err := oidc.NewProvider(t.Context(), p.Issuer())
	if err != nil {
		t.Fatalf("discover test provider: %v", err)
	}
	return &rp{
		p: p,
		oauth: oauth2.Config{
			ClientID: appClientID, RedirectURL: redirectURI, Scopes: []string{oidc.ScopeOpenID},
			Endpoint: oauth2.Endpoint{AuthURL: p.AuthorizationEndpoint(), TokenURL: p.TokenEndpoint(), AuthStyle: oauth2.AuthStyleInParams},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: appClientID}),
	}
}

// login runs one authorization request with extra parameters through b and
// returns the verified ID token claims.
func (r *rp) login(t testing.TB, b *pdptest.Browser, extra url.Values, otp string) authClaims {
	t.Helper()
	verifier, state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce)}
	for k := range extra {
		opts = append(opts, oauth2.SetAuthURLParam(k, extra.Get(k)))
	}
	back := b.Login(t, r.oauth.AuthCodeURL(state, opts...), pdptest.TestUsername, pdptest.TestPassword, otp)
	if got := back.Query().Get("state"); got != state {
		t.Fatalf("state = %q, want %q (redirect %s)", got, state, back)
	}
	tok, err := r.oauth.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var c authClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatalf("ID token claims: %v", err)
	}
	if c.Nonce != nonce {
		t.Fatalf("nonce = %q, want %q", c.Nonce, nonce)
	}
	at := r.accessTokenClaims(t, tok.AccessToken)
	if at.ACR != c.ACR || !slices.Equal(at.AMR, c.AMR) || at.AuthTime != c.AuthTime {
		t.Fatalf("access token claims %+v disagree with ID token %+v", at, c)
	}
	return c
}

// accessTokenClaims verifies the JWT access token with the provider's keys.
func (r *rp) accessTokenClaims(t testing.TB, raw string) authClaims {
	t.Helper()
	ks := oidc.NewRemoteKeySet(t.Context(), r.p.Issuer()+"/jwks")
	v := oidc.NewVerifier(r.p.Issuer(), ks, &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{oidc.RS256}})
	tok, err := v.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify JWT access token: %v", err)
	}
	var c authClaims
	if err := tok.Claims(&c); err != nil {
		t.Fatalf("access token claims: %v", err)
	}
	return c
}

func TestProviderLoginOutcomes(t *testing.T) {
	r := newRP(t)
	mfaClaims := url.Values{"claims": {`{"id_token":{"acr":{"essential":true,"values":["` + trust.PAPEMultiFactor + `"]}}}`}}
	tests := []struct {
		name    string
		extra   url.Values
		otp     string
		wantACR string
		wantAMR []string
	}{
		{name: "password only", otp: "", wantACR: pdptest.ProviderACRPassword, wantAMR: []string{"pwd"}},
		{name: "password and otp", otp: pdptest.TestOTP, wantACR: trust.PAPEMultiFactor, wantAMR: []string{"pwd", "otp", "mfa"}},
		{name: "essential mfa acr met", extra: mfaClaims, otp: pdptest.TestOTP, wantACR: trust.PAPEMultiFactor, wantAMR: []string{"pwd", "otp", "mfa"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Add(-2 * time.Second).Unix()
			c := r.login(t, r.p.NewBrowser(), tc.extra, tc.otp)
			if c.Sub != pdptest.TestUsername || c.ACR != tc.wantACR || !slices.Equal(c.AMR, tc.wantAMR) {
				t.Fatalf("claims = %+v, want sub %s acr %s amr %v", c, pdptest.TestUsername, tc.wantACR, tc.wantAMR)
			}
			if c.AuthTime < before {
				t.Fatalf("auth_time %d is older than the login (%d)", c.AuthTime, before)
			}
		})
	}
}

func TestProviderRejectsLogin(t *testing.T) {
	r := newRP(t)
	tests := []struct {
		name     string
		password string
		otp      string
		extra    string
	}{
		{name: "wrong password", password: "nope"},
		{name: "wrong otp", password: pdptest.TestPassword, otp: "000000"},
		{name: "essential mfa acr with password only", password: pdptest.TestPassword,
			extra: `{"id_token":{"acr":{"essential":true,"values":["` + trust.PAPEMultiFactor + `"]}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(oauth2.GenerateVerifier())}
			if tc.extra != "" {
				opts = append(opts, oauth2.SetAuthURLParam("claims", tc.extra))
			}
			_, err := r.p.NewBrowser().TryLogin(r.oauth.AuthCodeURL("s", opts...), pdptest.TestUsername, tc.password, tc.otp)
			if !errors.Is(err, pdptest.ErrLoginRejected) {
				t.Fatalf("TryLogin error = %v, want ErrLoginRejected", err)
			}
		})
	}
}

// TestProviderSessionReuse is the prompt=login lesson: without max_age the
// provider silently reuses the old, weaker login; max_age=0 forces a new one.
func TestProviderSessionReuse(t *testing.T) {
	r := newRP(t)
	b := r.p.NewBrowser()
	first := r.login(t, b, nil, "")

	reused := r.login(t, b, url.Values{"acr_values": {trust.PAPEMultiFactor}}, pdptest.TestOTP)
	if reused.AuthTime != first.AuthTime || reused.ACR != pdptest.ProviderACRPassword {
		t.Fatalf("without max_age: claims %+v, want the first login's auth_time %d and acr %s", reused, first.AuthTime, pdptest.ProviderACRPassword)
	}

	fresh := r.login(t, b, url.Values{"max_age": {"0"}, "acr_values": {trust.PAPEMultiFactor}}, pdptest.TestOTP)
	if fresh.ACR != trust.PAPEMultiFactor || !slices.Contains(fresh.AMR, "mfa") || fresh.AuthTime < first.AuthTime {
		t.Fatalf("with max_age=0: claims %+v, want a new multi-factor login", fresh)
	}
}

func TestProviderCIBATestRoutes(t *testing.T) {
	p := pdptest.StartOIDCProvider(t, pdptest.ProviderConfig{
		Clients: []pdptest.ProviderClient{pdptest.CIBAClient("ciba", "ciba-secret")},
	})
	if err := p.ApproveCIBA("no-such-request", "", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("ApproveCIBA(unknown) error = %v, want a 404", err)
	}
	if err := p.DenyCIBA("no-such-request"); err == nil {
		t.Fatal("DenyCIBA(unknown) succeeded")
	}
	pending, err := p.PendingCIBA()
	if err != nil || len(pending) != 0 {
		t.Fatalf("PendingCIBA() = %v, %v; want none", pending, err)
	}
	if _, err := url.Parse(p.BackchannelEndpoint()); err != nil || !strings.HasPrefix(p.BackchannelEndpoint(), p.Issuer()) {
		t.Fatalf("BackchannelEndpoint() = %q, want one under %s", p.BackchannelEndpoint(), p.Issuer())
	}
}

func TestProviderCIBAHints(t *testing.T) {
	p := pdptest.StartOIDCProvider(t, pdptest.ProviderConfig{
		Clients: []pdptest.ProviderClient{pdptest.CIBAClient("ciba", "ciba-secret")},
	})
	issSub, _ := json.Marshal(map[string]string{"format": "iss_sub", "iss": p.Issuer(), "sub": pdptest.TestUsername})
	tests := []struct {
		name      string
		hint      string
		wantError string
	}{
		{name: "sub", hint: pdptest.TestUsername},
		{name: "email", hint: pdptest.TestUsername + "@example.test"},
		{name: "auth0 iss_sub json", hint: string(issSub)},
		{name: "unknown user", hint: "mallory", wantError: "unknown_user_id"},
		{name: "iss_sub of another issuer", hint: `{"format":"iss_sub","iss":"https://other/","sub":"alice"}`, wantError: "unknown_user_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"scope": {"openid"}, "login_hint": {tc.hint}, "binding_message": {"PAY-4821"}}
			var ack struct {
				AuthReqID string `json:"auth_req_id"`
				Error     string `json:"error"`
			}
			postForm(t, p.BackchannelEndpoint(), form, &ack)
			if ack.Error != tc.wantError {
				t.Fatalf("error = %q, want %q", ack.Error, tc.wantError)
			}
			if tc.wantError != "" {
				return
			}
			pending, err := p.PendingCIBA()
			if err != nil {
				t.Fatalf("PendingCIBA: %v", err)
			}
			i := slices.IndexFunc(pending, func(r pdptest.PendingCIBARequest) bool { return r.AuthReqID == ack.AuthReqID })
			if i < 0 || pending[i].Sub != pdptest.TestUsername || pending[i].BindingMessage != "PAY-4821" {
				t.Fatalf("pending = %+v, want %s for %s with its binding message", pending, ack.AuthReqID, pdptest.TestUsername)
			}
			if err := p.DenyCIBA(ack.AuthReqID); err != nil {
				t.Fatalf("DenyCIBA: %v", err)
			}
			var tok struct {
				Error string `json:"error"`
			}
			postForm(t, p.TokenEndpoint(), url.Values{"grant_type": {"urn:openid:params:grant-type:ciba"}, "auth_req_id": {ack.AuthReqID}}, &tok)
			if tok.Error != "access_denied" {
				t.Fatalf("token error after deny = %q, want access_denied", tok.Error)
			}
		})
	}
}

func postForm(t testing.TB, endpoint string, form url.Values, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ciba", "ciba-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("decode %s response: %v", endpoint, err)
	}
}

func TestProviderStoppedAtCleanup(t *testing.T) {
	var issuer string
	t.Run("running", func(t *testing.T) {
		p := pdptest.StartOIDCProvider(t, pdptest.ProviderConfig{})
		issuer = p.Issuer()
		resp, err := http.Get(issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatalf("provider not reachable while running: %v", err)
		}
		resp.Body.Close()
	})
	if issuer == "" {
		t.Skip("provider did not start")
	}
	if resp, err := http.Get(issuer + "/.well-known/openid-configuration"); err == nil {
		resp.Body.Close()
		t.Fatalf("provider at %s still answers after its test ended", issuer)
	}
}

func TestProviderUnavailableSkipsOutsideCI(t *testing.T) {
	t.Setenv("CI", "")
	var inner *testing.T
	t.Run("no node_modules", func(t *testing.T) {
		inner = t
		pdptest.StartOIDCProvider(t, pdptest.ProviderConfig{Dir: t.TempDir()})
		t.Fatal("StartOIDCProvider returned without node_modules")
	})
	if !inner.Skipped() {
		t.Fatal("a missing provider installation did not skip the test")
	}
}
