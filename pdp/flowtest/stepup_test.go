//go:build unix

package flowtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/pdptest"
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
	wantOutcome(t, d, pdp.StepUp)
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
	if _, ok := e.flows.find(pdp.FlowSession, "elevated"); !ok {
		t.Error("the elevation was not audited")
	}
	wantOutcome(t, e.decide(t, stepped.access, "billing.view", "", nil), pdp.Allow)
	wantOutcome(t, e.decide(t, login.access, "billing.view", "app-session-1", nil), pdp.Allow)
	wantOutcome(t, e.decide(t, login.access, "billing.view", "another-session", nil), pdp.StepUp)

	if code, v := e.verify(t, su.TransactionID, stepped.id, ""); code != http.StatusConflict || v.Error != pdp.VerifyTransactionUsed {
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
		{"freshness and acr removed: the provider reuses the old login", []string{"max_age", "acr_values", "claims"}, false, 10 * time.Minute, pdptest.TestOTP, pdp.VerifyStaleAuthTime},
		{"acr removed: a new password-only login", []string{"acr_values", "claims"}, true, 0, "", pdp.VerifyInsufficient},
	}
	idp, ic := startRealIdP(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envConfig{issuer: ic})
			b := idp.p.NewBrowser()
			login := idp.signIn(t, b)
			e.clock.Advance(tc.later)
			d := e.decide(t, login.access, "billing.view", "", nil)
			wantOutcome(t, d, pdp.StepUp)
			if tc.fresh {
				b = idp.p.NewBrowser()
			}
			back := b.Login(t, stripped(t, d.StepUp.AuthorizeURL, tc.strip...), pdptest.TestUsername, pdptest.TestPassword, tc.otp)
			got := idp.exchange(t, back, d.StepUp.State, d.StepUp.CodeVerifier)
			code, v := e.verify(t, d.StepUp.TransactionID, got.id, "s1")
			if code != http.StatusForbidden || v.Verified || v.Error != tc.want {
				t.Fatalf("verify: HTTP %d %+v, want 403 %s", code, v, tc.want)
			}
			wantOutcome(t, e.decide(t, login.access, "billing.view", "s1", nil), pdp.StepUp)
		})
	}
}
