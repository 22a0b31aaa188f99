package flowtest

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
)

// mfaLogin mints the app's access token for an MFA login made ago, in
// IdP session sid: billing.view allows it.
func (m *mintedIdP) mfaLogin(t testing.TB, ago time.Duration, sid string) string {
	t.Helper()
	now := m.e.clock.Now()
	return m.Mint(t, map[string]any{"sub": "alice", "aud": pdptest.DefaultAudience, "amr": []string{"pwd", "mfa"},
		"auth_time": now.Add(-ago).Unix(), "iat": now.Unix(), "exp": now.Add(4 * time.Hour).Unix(), "sid": sid})
}

// wantLoggedOut checks the answer for a token of an ended session: a
// step-up to a fresh login (max_age=0) with the logout as first reason.
func wantLoggedOut(t testing.TB, d pdp.Decision, reason string) {
	t.Helper()
	wantOutcome(t, d, policy.StepUp)
	if len(d.Reasons) == 0 || !strings.Contains(d.Reasons[0], reason) {
		t.Fatalf("reasons %q, want first one naming %q", d.Reasons, reason)
	}
	if d.Requirements == nil || !d.Requirements.FreshLogin || d.StepUp == nil {
		t.Fatalf("requirements %+v step_up %+v: want a fresh login", d.Requirements, d.StepUp)
	}
	u, err := url.Parse(d.StepUp.AuthorizeURL)
	if err != nil || u.Query().Get("max_age") != "0" {
		t.Fatalf("authorize URL %q: want max_age=0", d.StepUp.AuthorizeURL)
	}
	if d.StepUp.WWWAuthenticate == "" || d.StepUp.TransactionID == "" {
		t.Fatalf("step_up %+v: want a challenge and a transaction", d.StepUp)
	}
}

// TestBackchannelLogoutEndsSession: after the IdP's logout of a sid, the
// session's tokens get a step-up to a new login; other sessions and a
// login after the logout are allowed; the trail has the logout.
func TestBackchannelLogoutEndsSession(t *testing.T) {
	m := newMintedEnv(t)
	e := m.e
	token, other := m.mfaLogin(t, time.Minute, "idp-sid-1"), m.mfaLogin(t, time.Minute, "idp-sid-2")
	wantOutcome(t, e.decide(t, token, "billing.view", "", nil), policy.Allow)

	if code, body := m.postLogout(t, m.logoutToken(t, nil)); code != http.StatusOK {
		t.Fatalf("back-channel logout: HTTP %d %v", code, body)
	}
	wantLoggedOut(t, e.decide(t, token, "billing.view", "", nil), "back-channel logout from "+m.URL())
	wantOutcome(t, e.decide(t, other, "billing.view", "", nil), policy.Allow)
	ev, ok := e.flows.find(flow.KindSession, "logout")
	if !ok || ev.SID != "idp-sid-1" || ev.Issuer != m.URL() || len(ev.Reasons) == 0 || !strings.Contains(ev.Reasons[0], "jti-1") {
		t.Fatalf("logout audit %+v (found %v)", ev, ok)
	}

	// The user signs in again, in the same IdP session id even.
	e.clock.Advance(time.Minute)
	wantOutcome(t, e.decide(t, m.mfaLogin(t, 0, "idp-sid-1"), "billing.view", "", nil), policy.Allow)
	wantLoggedOut(t, e.decide(t, token, "billing.view", "", nil), "back-channel logout")

	// A sub-wide logout ends every session of the user.
	if code, body := m.postLogout(t, m.logoutToken(t, map[string]any{"sid": nil, "sub": "alice", "jti": "jti-2"})); code != http.StatusOK {
		t.Fatalf("sub logout: HTTP %d %v", code, body)
	}
	wantLoggedOut(t, e.decide(t, other, "billing.view", "", nil), `every session of "alice"`)
}

// TestRevokeEndsSession: POST /v1/sessions/{sid}/revoke ends the client's
// session for its decisions, until the user signs in again.
func TestRevokeEndsSession(t *testing.T) {
	m := newMintedEnv(t)
	e := m.e
	token := m.mfaLogin(t, time.Minute, "idp-sid-1")
	wantOutcome(t, e.decide(t, token, "billing.view", "web-7", nil), policy.Allow)
	var rv map[string]any
	if code := e.call(t, http.MethodPost, "/v1/sessions/web-7/revoke", clientKey, nil, &rv); code != http.StatusOK {
		t.Fatalf("revoke: HTTP %d %v", code, rv)
	}
	wantLoggedOut(t, e.decide(t, token, "billing.view", "web-7", nil), `session "web-7" was ended by client billing-svc`)
	if ev, ok := e.flows.find(flow.KindSession, "logout"); !ok || ev.SessionID != "web-7" || ev.ClientID != "billing-svc" {
		t.Fatalf("revocation audit %+v (found %v)", ev, ok)
	}
	// Another session of the same token is not the revoked one.
	wantOutcome(t, e.decide(t, token, "billing.view", "web-8", nil), policy.Allow)

	e.clock.Advance(time.Minute)
	wantOutcome(t, e.decide(t, m.mfaLogin(t, 0, "idp-sid-1"), "billing.view", "web-7", nil), policy.Allow)
}

// TestLogoutNotStored: when the mark cannot be stored the logout is not
// acknowledged (the IdP retries) and nothing is half done.
func TestLogoutNotStored(t *testing.T) {
	m := newMintedEnv(t)
	e := m.e
	token := m.mfaLogin(t, time.Minute, "idp-sid-1")
	e.marks.Fail = errors.New("database is down")
	if code, body := m.postLogout(t, m.logoutToken(t, nil)); code != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" {
		t.Fatalf("logout without a store: HTTP %d %v, want 503", code, body)
	}
	if code := e.call(t, http.MethodPost, "/v1/sessions/web-7/revoke", clientKey, nil, nil); code < 500 {
		t.Fatalf("revoke without a store: HTTP %d, want 5xx", code)
	}
	if _, ok := e.flows.find(flow.KindSession, "logout"); ok {
		t.Fatal("a logout that was not stored was audited as received")
	}
	e.marks.Fail = nil
	if code, body := m.postLogout(t, m.logoutToken(t, nil)); code != http.StatusOK {
		t.Fatalf("retried logout: HTTP %d %v", code, body)
	}
	wantLoggedOut(t, e.decide(t, token, "billing.view", "", nil), "back-channel logout")
}
