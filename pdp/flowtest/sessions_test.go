package flowtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// mintedIdP is a fake issuer whose tokens the tests mint, so that they can
// also sign back-channel logout tokens.
type mintedIdP struct {
	*pdptest.Issuer
	t testing.TB
	e *env
}

func newMintedEnv(t testing.TB) *mintedIdP {
	t.Helper()
	iss := pdptest.NewIssuer(t)
	ic := iss.Config(pdptest.DefaultAudience, appID)
	ic.Authorize = &trust.AuthorizeConfig{ClientID: appID, RedirectURI: redirectURI, Scopes: []string{"openid"}}
	ic.CIBA = &trust.CIBAConfig{ClientID: cibaID, ClientSecret: cibaSecret}
	return &mintedIdP{Issuer: iss, t: t, e: newEnv(t, envConfig{issuer: ic})}
}

// login mints the app's access token for a password login made ago.
func (m *mintedIdP) login(t testing.TB, ago time.Duration, sid string) string {
	t.Helper()
	now := m.e.clock.Now()
	return m.Mint(t, map[string]any{"sub": "alice", "aud": pdptest.DefaultAudience, "amr": []string{"pwd"},
		"auth_time": now.Add(-ago).Unix(), "iat": now.Unix(), "exp": now.Add(4 * time.Hour).Unix(), "sid": sid})
}

// stepUp answers a step_up decision as the IdP would after an OTP login.
func (m *mintedIdP) stepUp(t testing.TB, d pdp.Decision, sid, session string) verifyAnswer {
	t.Helper()
	wantOutcome(t, d, policy.StepUp)
	now := m.e.clock.Now()
	idToken := m.Mint(t, map[string]any{"sub": "alice", "aud": appID, "nonce": d.StepUp.Nonce, "sid": sid,
		"amr": []string{"pwd", "otp", "mfa"}, "auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	code, v := m.e.verify(t, d.StepUp.TransactionID, idToken, session)
	if code != http.StatusOK || !v.Verified {
		t.Fatalf("verify: HTTP %d %+v", code, v)
	}
	return v
}

// logoutToken mints a back-channel logout token; override changes claims
// (nil removes one).
func (m *mintedIdP) logoutToken(t testing.TB, override map[string]any) string {
	t.Helper()
	now := m.e.clock.Now()
	claims := map[string]any{"aud": appID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "jti-1",
		"sid": "idp-sid-1", "events": map[string]any{trust.BackchannelLogoutEvent: map[string]any{}}}
	for k, v := range override {
		claims[k] = v
	}
	return m.Mint(t, claims)
}

func (m *mintedIdP) postLogout(t testing.TB, token string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(m.e.srv.URL+"/v1/backchannel-logout", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := jsonDecode(resp.Body, &body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestSessionElevation is "MFA once per session": the app keeps its
// password-only token; after one step-up the session is allowed billing
// until max_age has passed, then asked again; the IdP's back-channel
// logout and the app's revocation end it.
func TestSessionElevation(t *testing.T) {
	m := newMintedEnv(t)
	e := m.e
	token := m.login(t, time.Hour, "idp-sid-1")

	v := m.stepUp(t, e.decide(t, token, "billing.view", "", nil), "idp-sid-1", "")
	if v.Session == nil || v.Session.ID != "idp-sid-1" {
		t.Fatalf("verify elevated %+v, want the token's sid", v.Session)
	}
	wantOutcome(t, e.decide(t, token, "billing.view", "", nil), policy.Allow)
	e.clock.Advance(14 * time.Minute)
	wantOutcome(t, e.decide(t, token, "billing.view", "", nil), policy.Allow)
	e.clock.Advance(2 * time.Minute)
	d := e.decide(t, token, "billing.view", "", nil)
	wantOutcome(t, d, policy.StepUp)

	m.stepUp(t, d, "idp-sid-1", "")
	wantOutcome(t, e.decide(t, token, "billing.view", "", nil), policy.Allow)
	if code, body := m.postLogout(t, m.logoutToken(t, nil)); code != http.StatusOK || body["revoked"] != float64(1) {
		t.Fatalf("back-channel logout: HTTP %d %v", code, body)
	}
	if ev, ok := e.flows.find(flow.KindSession, "revoked"); !ok || ev.SessionID != "idp-sid-1" {
		t.Fatalf("revocation audit %+v (found %v)", ev, ok)
	}
	wantOutcome(t, e.decide(t, token, "billing.view", "", nil), policy.StepUp)

	// An app-named session, ended by the app.
	m.stepUp(t, e.decide(t, token, "billing.view", "web-42", nil), "idp-sid-1", "web-42")
	wantOutcome(t, e.decide(t, token, "billing.view", "web-42", nil), policy.Allow)
	var rv map[string]any
	if code := e.call(t, http.MethodPost, "/v1/sessions/web-42/revoke", clientKey, nil, &rv); code != http.StatusOK || rv["revoked"] != float64(1) {
		t.Fatalf("revoke: HTTP %d %v", code, rv)
	}
	wantOutcome(t, e.decide(t, token, "billing.view", "web-42", nil), policy.StepUp)
}

// TestBackchannelLogoutTokens: everything Back-Channel Logout 1.0 §2.6 asks
// the receiver to check; a rejected token ends nothing.
func TestBackchannelLogoutTokens(t *testing.T) {
	m := newMintedEnv(t)
	e := m.e
	token := m.login(t, time.Hour, "idp-sid-1")
	m.stepUp(t, e.decide(t, token, "billing.view", "", nil), "idp-sid-1", "")
	now := e.clock.Now()
	tests := []struct {
		name     string
		override map[string]any
		opts     []pdptest.MintOption
	}{
		{"a nonce (an ID token)", map[string]any{"nonce": "n"}, nil},
		{"no events claim", map[string]any{"events": nil}, nil},
		{"events without the logout member", map[string]any{"events": map[string]any{"other": map[string]any{}}}, nil},
		{"no jti", map[string]any{"jti": nil}, nil},
		{"neither sub nor sid", map[string]any{"sid": nil}, nil},
		{"no iat", map[string]any{"iat": nil}, nil},
		{"expired", map[string]any{"exp": now.Add(-time.Hour).Unix()}, nil},
		{"another audience", map[string]any{"aud": "someone-else"}, nil},
		{"unknown issuer", map[string]any{"iss": "https://evil.example"}, nil},
		{"unsigned", nil, []pdptest.MintOption{pdptest.WithAlgNone()}},
		{"signed with an unpublished key", nil, []pdptest.MintOption{pdptest.WithUnpublishedKey()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{"aud": appID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "j",
				"sid": "idp-sid-1", "events": map[string]any{trust.BackchannelLogoutEvent: map[string]any{}}}
			for k, v := range tc.override {
				claims[k] = v
			}
			code, body := m.postLogout(t, m.Mint(t, claims, tc.opts...))
			if code != http.StatusBadRequest || body["error"] != "invalid_request" {
				t.Fatalf("HTTP %d %v, want 400 invalid_request", code, body)
			}
		})
	}
	wantOutcome(t, e.decide(t, token, "billing.view", "", nil), policy.Allow)
	// A replayed logout token from before this elevation ends nothing.
	old := m.logoutToken(t, map[string]any{"iat": now.Add(-time.Minute).Unix()})
	if code, body := m.postLogout(t, old); code != http.StatusOK || body["revoked"] != float64(0) {
		t.Fatalf("old logout token: HTTP %d %v, want 200 revoked 0", code, body)
	}
	// A sub-only logout ends every session of the user.
	if code, body := m.postLogout(t, m.logoutToken(t, map[string]any{"sid": nil, "sub": "alice"})); code != http.StatusOK || body["revoked"] != float64(1) {
		t.Fatalf("sub logout: HTTP %d %v", code, body)
	}
	wantOutcome(t, e.decide(t, token, "billing.view", "", nil), policy.StepUp)
}
