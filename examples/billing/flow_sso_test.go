//go:build unix

package main

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/examples/billing/internal/demostack"
	"github.com/stepgate/stepgate/pdp/trust"
)

// TestBillingAfterMFAElsewhereDoesNotLoop is the single sign-on case that
// used to trap users: alice signs in to the demo with her password, then
// does MFA in another app at the same provider. Some seconds later (longer
// than stepgate's auth_time skew, well within billing's window) she opens
// billing: the demo steps up, the provider rightly answers from its MFA
// session without prompting, stepgate accepts the earlier auth_time, and
// she is on the billing page — once, without a loop.
func TestBillingAfterMFAElsewhereDoesNotLoop(t *testing.T) {
	t.Parallel()
	s := startStackWindow(t, time.Minute)
	issuer := s.idp.Issuer()
	v := newVisitor(t, s.url)
	u, pw, otp := demostack.Username, demostack.Password, demostack.OTP

	if p := v.login(v.get("/login"), u, pw, ""); p.url.Path != "/" {
		t.Fatalf("after the password sign-in: %s", p.url)
	}
	other := oauth2.Config{ClientID: otherAppID, RedirectURL: s.url + otherAppPath, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: s.idp.AuthorizationEndpoint()}}
	authURL := other.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("nonce", "n"),
		oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["`+trust.PAPEMultiFactor+`"]}}}`))
	p := v.get(authURL)
	if !p.atProviderLogin(issuer) {
		t.Fatalf("the other app's MFA request did not reach the login form: %s", p.url)
	}
	if p = v.login(p, u, pw, otp); p.url.Path != otherAppPath || p.url.Query().Get("code") == "" {
		t.Fatalf("the other app's MFA login ended at %s", p.url)
	}

	// stepgate's auth_time skew is 5 s: wait past it, so that only the
	// window can accept the earlier MFA login (real time: the provider and
	// stepgate are separate processes).
	time.Sleep(7 * time.Second)
	p = v.get("/billing")
	if p.hopTo(issuer) == nil {
		t.Fatalf("billing did not step up at the provider: hops %v", p.hops)
	}
	if p.atProviderLogin(issuer) {
		t.Fatalf("the provider prompted although its session meets the requirement: %s", p.url)
	}
	wantBilling(t, p, s.url)
	if got := s.counts.get("/callback"); got != 1 {
		t.Fatalf("%d step-up callbacks, want exactly 1 (a loop shows as more)", got)
	}
	if strings.Contains(s.log.String(), "stale_auth_time") {
		t.Fatalf("stepgate refused the silent answer:\n%s", s.log.String())
	}
	// And billing within the window needs no further round trip.
	if p = v.get("/billing"); len(p.hops) != 0 {
		t.Fatalf("billing again redirected: %v", p.hops)
	}
}
