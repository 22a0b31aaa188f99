//go:build unix

package flowtest

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// TestStepUpRoundTrip is the whole step-up against the real provider: the
// app's password-only token gets step_up for billing.view; the browser
// follows authorize_url and logs in with the OTP; the app redeems the code
// with the code_verifier stepgate handed out; verify accepts the ID token
// and elevates the session; the new token is allowed, and so is the old one
// within that session.
func TestStepUpRoundTrip(t *testing.T) {
	idp, ic := startRealIdP(t)
	e := newEnv(t, envConfig{issuer: ic})
	b := idp.p.NewBrowser()
	login := idp.signIn(t, b)

	d := e.decide(t, login.access, "billing.view", "", nil)
	wantOutcome(t, d, policy.StepUp)
	su := d.StepUp
	if su == nil || su.AuthorizeURL == "" || su.CodeVerifier == "" || su.State == "" {
		t.Fatalf("step_up answer %+v", su)
	}
	back := b.Login(t, su.AuthorizeURL, pdptest.TestUsername, pdptest.TestPassword, pdptest.TestOTP)
	stepped := idp.exchange(t, back, su.State, su.CodeVerifier)

	code, v := e.verify(t, su.TransactionID, stepped.id, "app-session-1")
	if code != http.StatusOK || !v.Verified {
		t.Fatalf("verify: HTTP %d %+v", code, v)
	}
	if v.Session == nil || v.Session.ID != "app-session-1" || !v.Session.ExpiresAt.After(e.clock.Now().Add(14*time.Minute)) {
		t.Fatalf("verify elevated %+v, want app-session-1 for about 15 minutes", v.Session)
	}
	if _, ok := e.flows.find(flow.KindSession, "elevated"); !ok {
		t.Error("the elevation was not audited")
	}
	wantOutcome(t, e.decide(t, stepped.access, "billing.view", "", nil), policy.Allow)
	wantOutcome(t, e.decide(t, login.access, "billing.view", "app-session-1", nil), policy.Allow)
	wantOutcome(t, e.decide(t, login.access, "billing.view", "another-session", nil), policy.StepUp)

	if code, v := e.verify(t, su.TransactionID, stepped.id, ""); code != http.StatusConflict || v.Error != trust.VerifyTransactionUsed {
		t.Fatalf("replayed verify: HTTP %d %+v, want 409 transaction_used", code, v)
	}
}

// TestStrippedParameters is the prompt=login lesson: whatever the URL lost
// on the way, verify checks what the ID token proves.
func TestStrippedParameters(t *testing.T) {
	tests := []struct {
		name string
		// strip are the parameters removed from authorize_url.
		strip []string
		// fresh logs in from a new browser, without a provider session.
		fresh bool
		// later is how much later than the app's login stepgate asks.
		later time.Duration
		otp   string
		want  string
	}{
		{"freshness, acr and prompt removed: the provider reuses the password login", []string{"max_age", "acr_values", "claims", "prompt"}, false, 10 * time.Minute, pdptest.TestOTP, trust.VerifyInsufficient},
		{"everything removed, the password login older than max_age", []string{"max_age", "acr_values", "claims", "prompt"}, false, 20 * time.Minute, pdptest.TestOTP, trust.VerifyStaleAuthTime},
		{"acr removed: a new password-only login", []string{"acr_values", "claims"}, true, 0, "", trust.VerifyInsufficient},
	}
	idp, ic := startRealIdP(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envConfig{issuer: ic})
			b := idp.p.NewBrowser()
			login := idp.signIn(t, b)
			e.clock.Advance(tc.later)
			d := e.decide(t, login.access, "billing.view", "", nil)
			wantOutcome(t, d, policy.StepUp)
			if tc.fresh {
				b = idp.p.NewBrowser()
			}
			back := b.Login(t, stripped(t, d.StepUp.AuthorizeURL, tc.strip...), pdptest.TestUsername, pdptest.TestPassword, tc.otp)
			got := idp.exchange(t, back, d.StepUp.State, d.StepUp.CodeVerifier)
			code, v := e.verify(t, d.StepUp.TransactionID, got.id, "s1")
			if code != http.StatusForbidden || v.Verified || v.Error != tc.want {
				t.Fatalf("verify: HTTP %d %+v, want 403 %s", code, v, tc.want)
			}
			wantOutcome(t, e.decide(t, login.access, "billing.view", "s1", nil), policy.StepUp)
		})
	}
}

// TestSingleSignOnStepUpDoesNotLoop is the loop users were stuck in: the
// user signed in to this app with a password, then did MFA in another app
// at the same provider. Ten seconds later (longer than any skew) this app's
// step-up for billing.view sends her to the provider, which rightly does
// not prompt: its session already meets "MFA within 900s". Verify accepts
// the earlier auth_time, and the next decisions are allowed, for this
// action and for a second one within its window.
func TestSingleSignOnStepUpDoesNotLoop(t *testing.T) {
	idp, ic := startRealIdP(t)
	e := newEnv(t, envConfig{issuer: ic})
	b := idp.p.NewBrowser()
	login := idp.signIn(t, b)
	idp.otherAppMFA(t, b)
	e.clock.Advance(10 * time.Second)

	d := e.decide(t, login.access, "billing.view", "", nil)
	wantOutcome(t, d, policy.StepUp)
	back, err := b.Silently(d.StepUp.AuthorizeURL)
	if err != nil {
		t.Fatalf("the provider session meets the requirement, yet: %v", err)
	}
	stepped := idp.exchange(t, back, d.StepUp.State, d.StepUp.CodeVerifier)
	code, v := e.verify(t, d.StepUp.TransactionID, stepped.id, "app-session-1")
	if code != http.StatusOK || !v.Verified {
		t.Fatalf("verify: HTTP %d %+v — the user would be sent round again", code, v)
	}
	requested := e.clock.Now().Unix()
	if at, _ := v.Claims["auth_time"].(float64); int64(at) > requested-8 {
		t.Fatalf("auth_time %v is not the earlier MFA login (request at %d): the test proves nothing", at, requested)
	}
	ev, ok := e.flows.find(flow.KindStepUp, "verified")
	if !ok || ev.DecisionID != d.ID || ev.Proof == nil || ev.Proof.AuthTime.Unix() >= requested-8 {
		t.Fatalf("step-up audit record %+v (found %v), want the decision and the earlier auth_time", ev, ok)
	}
	wantOutcome(t, e.decide(t, stepped.access, "billing.view", "", nil), policy.Allow)
	wantOutcome(t, e.decide(t, login.access, "billing.view", "app-session-1", nil), policy.Allow)
	wantOutcome(t, e.decide(t, login.access, "billing.pay", "app-session-1", nil), policy.Allow)
}

// TestFreshLoginRefusesSilentAnswer: profile.update is a re-authentication,
// so the same kind of silent answer from a session ten seconds old is
// refused — here with max_age and prompt stripped from the URL, which a
// user can do — and the step-up succeeds only after a real login, which the
// untouched URL (max_age=0) makes the provider ask for.
func TestFreshLoginRefusesSilentAnswer(t *testing.T) {
	idp, ic := startRealIdP(t)
	e := newEnv(t, envConfig{issuer: ic})
	b := idp.p.NewBrowser()
	idp.signIn(t, b)
	e.clock.Advance(10 * time.Second)
	decide := func() pdp.Decision {
		t.Helper()
		// The call centre asserts a login ten minutes old for the user.
		body := map[string]any{"action": "profile.update", "claims": map[string]any{"iss": ic.Issuer, "sub": pdptest.TestUsername,
			"amr": []string{"pwd"}, "auth_time": e.clock.Now().Unix() - 600}}
		var d pdp.Decision
		if code := e.call(t, http.MethodPost, "/v1/decision", trustedKey, body, &d); code != http.StatusOK {
			t.Fatalf("decision: HTTP %d %+v", code, d)
		}
		wantOutcome(t, d, policy.StepUp)
		if d.Requirements == nil || !d.Requirements.FreshLogin {
			t.Fatalf("requirements %+v, want a fresh login", d.Requirements)
		}
		return d
	}
	verify := func(d pdp.Decision, idToken string) (int, verifyAnswer) {
		t.Helper()
		var v verifyAnswer
		code := e.call(t, http.MethodPost, "/v1/stepup/verify", trustedKey,
			map[string]any{"transaction_id": d.StepUp.TransactionID, "id_token": idToken}, &v)
		return code, v
	}

	d := decide()
	back, err := b.Silently(stripped(t, d.StepUp.AuthorizeURL, "max_age", "prompt"))
	if err != nil {
		t.Fatalf("without max_age the provider should answer from its session: %v", err)
	}
	silent := idp.exchange(t, back, d.StepUp.State, d.StepUp.CodeVerifier)
	if code, v := verify(d, silent.id); code != http.StatusForbidden || v.Error != trust.VerifyStaleAuthTime {
		t.Fatalf("silent answer to a fresh-login step-up: HTTP %d %+v, want 403 stale_auth_time", code, v)
	}

	e.clock.Advance(-10 * time.Second) // a login made now is after the next request
	d = decide()
	if _, err := b.Silently(d.StepUp.AuthorizeURL); !errors.Is(err, pdptest.ErrLoginPrompted) {
		t.Fatalf("with max_age=0 the provider must ask for a login, got %v", err)
	}
	back = b.Login(t, d.StepUp.AuthorizeURL, pdptest.TestUsername, pdptest.TestPassword, "")
	fresh := idp.exchange(t, back, d.StepUp.State, d.StepUp.CodeVerifier)
	if code, v := verify(d, fresh.id); code != http.StatusOK || !v.Verified {
		t.Fatalf("verify after a real login: HTTP %d %+v", code, v)
	}
	if _, ok := e.flows.find(flow.KindStepUp, trust.VerifyStaleAuthTime); !ok {
		t.Error("the refused silent answer left no audit record")
	}
}
