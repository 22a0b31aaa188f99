//go:build unix

package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/examples/billing/internal/demostack"
)

// TestBillingFlowHTTP drives the demo with a cookie-jar client against the
// real provider and a stepgate binary: sign in with a password, browse,
// step up for billing with the one-time code, open billing again without a
// prompt, be asked again after the window, sign out (session gone,
// elevation revoked at stepgate), and take two call-centre payments, one
// approved and one denied on the simulated phone.
func TestBillingFlowHTTP(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	issuer := s.idp.Issuer()
	v := newVisitor(t, s.url)
	u, pw, otp := demostack.Username, demostack.Password, demostack.OTP

	if p := v.get("/billing"); !p.atProviderLogin(issuer) || p.hopTo(s.url+"/login") == nil {
		t.Fatalf("billing while signed out went to %s via %v, want the sign-in at the provider", p.url, p.hops)
	}
	p := v.get("/login")
	if auth := p.hopTo(issuer); auth == nil || auth.Query().Get("acr_values") != acrPassword || auth.Query().Get("prompt") != "login" {
		t.Fatalf("sign-in request %v, want acr_values %s and prompt=login", auth, acrPassword)
	}
	p = v.login(p, u, pw, "")
	if p.url.Path != "/" || !strings.Contains(p.body, "Welcome back") {
		t.Fatalf("after the password sign-in: %s %.300s", p.url, p.body)
	}
	if p = v.get("/profile"); !strings.Contains(p.body, acrPassword) || !strings.Contains(p.body, "alice@example.test") {
		t.Fatalf("profile does not show the password sign-in: %.500s", p.body)
	}

	// Billing: stepgate answers step_up; the provider asks for the code.
	p = v.get("/billing")
	auth := p.hopTo(issuer)
	if !p.atProviderLogin(issuer) || auth == nil || auth.Query().Get("max_age") != "5" || !strings.Contains(auth.Query().Get("claims"), "essential") {
		t.Fatalf("billing did not step up at the provider with max_age and an essential acr: %s via %v", p.url, p.hops)
	}
	p = v.login(p, u, pw, otp)
	done := time.Now()
	wantBilling(t, p, s.url)
	if got := s.counts.get("/callback"); got != 1 {
		t.Fatalf("%d step-up callbacks, want 1", got)
	}

	// Within the window: no prompt, no redirect at all.
	p = v.get("/billing")
	wantBilling(t, p, s.url)
	if len(p.hops) != 0 {
		t.Fatalf("billing within the window redirected: %v", p.hops)
	}

	// After the window: asked again, and the provider really prompts.
	waitOutWindow(done)
	p = v.get("/billing")
	if !p.atProviderLogin(issuer) {
		t.Fatalf("billing after the window: %s, want the provider's login form", p.url)
	}
	wantBilling(t, v.login(p, u, pw, otp), s.url)

	// Sign out: the session is gone here and its elevation at stepgate.
	sess := s.onlySession(t)
	if got := s.decide(t, sess.token, sess.id); got != "allow" {
		t.Fatalf("before sign-out stepgate answers %s for the elevated session, want allow", got)
	}
	if p = v.post("/logout", nil); p.url.Path != "/signed-out" {
		t.Fatalf("sign-out ended at %s", p.url)
	}
	if got := s.decide(t, sess.token, sess.id); got != "step_up" {
		t.Fatalf("after sign-out stepgate answers %s for the old session, want step_up (elevation revoked)", got)
	}
	if code, loc := noFollow(t, s.url+"/billing", &http.Cookie{Name: sessionCookie, Value: sess.key}); code != http.StatusSeeOther || loc != "/login?return_to=%2Fbilling" {
		t.Fatalf("billing with the old session cookie: %d → %q, want 303 → /login?return_to=%%2Fbilling", code, loc)
	}

	// Signing in again is a new password login, not the earlier MFA one.
	p = v.get("/login")
	if !p.atProviderLogin(issuer) {
		t.Fatalf("signing in again skipped the provider's login form: %s", p.url)
	}
	v.login(p, u, pw, "")
	takePayments(t, s, v)
}

func wantBilling(t testing.TB, p page, base string) {
	t.Helper()
	if p.url.String() != base+"/billing" || p.status != http.StatusOK || !strings.Contains(p.body, `id="unlocked"`) {
		t.Fatalf("want the billing page, got %s HTTP %d: %.400s", p.url, p.status, p.body)
	}
}

var (
	bindingRE = regexp.MustCompile(`id="binding">([^<]+)<`)
	phoneRE   = regexp.MustCompile(`action="/phone/([^"/]+)/approve"><button type="submit" class="primary" data-code="([^"]+)"`)
)

// takePayments starts an approved and a denied call-centre payment and
// waits for stepgate's CIBA poller to see the answers.
func takePayments(t *testing.T, s *stack, v *visitor) {
	t.Helper()
	if p := v.post("/pay", url.Values{"invoice": {"INV-2041"}, "amount": {"12,00"}}); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("a malformed amount: HTTP %d, want 422", p.status)
	}
	tests := []struct {
		name, amount, answer, want, text string
	}{
		{"approved on the phone", "120.00", "approve", "approved", "€120.00</strong> charged to INV-2041"},
		{"denied on the phone", "15.5", "deny", "denied", "declined"},
	}
	pages := make([]*url.URL, len(tests))
	codes := make([]string, len(tests))
	for i, tc := range tests {
		p := v.post("/pay", url.Values{"invoice": {"INV-2041"}, "amount": {tc.amount}})
		m := bindingRE.FindStringSubmatch(p.body)
		if !strings.HasPrefix(p.url.Path, "/payments/") || !strings.Contains(p.body, `data-status="pending"`) || m == nil {
			t.Fatalf("%s: payment page %s: %.500s", tc.name, p.url, p.body)
		}
		pages[i], codes[i] = p.url, m[1]
	}
	phone := v.get("/phone")
	ids := map[string]string{}
	for _, m := range phoneRE.FindAllStringSubmatch(phone.body, -1) {
		ids[m[2]] = m[1]
	}
	for i, tc := range tests {
		id, ok := ids[codes[i]]
		if !ok {
			t.Fatalf("%s: the phone does not show code %s: %.800s", tc.name, codes[i], phone.body)
		}
		if p := v.post("/phone/"+id+"/"+tc.answer, nil); p.url.Query().Get("done") != tc.want {
			t.Fatalf("%s: phone answered %s", tc.name, p.url)
		}
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			deadline := time.Now().Add(30 * time.Second) // stepgate polls the provider every 5 s
			for {
				p := v.get(pages[i].String())
				if !strings.Contains(p.body, `data-status="pending"`) {
					if !strings.Contains(p.body, `data-status="`+tc.want+`"`) || !strings.Contains(p.body, tc.text) {
						t.Fatalf("payment ended as: %.800s", p.body)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatal("the payment is still pending")
				}
				time.Sleep(250 * time.Millisecond)
			}
		})
	}
}
