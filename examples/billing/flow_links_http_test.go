//go:build unix

package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/examples/billing/internal/demostack"
)

// TestDeepLinksSurviveSignIn: a signed-out visitor who opens a page lands
// on that page after signing in (and stepping up, for billing); a return
// URL that leaves the app is ignored.
func TestDeepLinksSurviveSignIn(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	issuer := s.idp.Issuer()
	u, pw, otp := demostack.Username, demostack.Password, demostack.OTP

	t.Run("billing through sign-in and step-up", func(t *testing.T) {
		v := newVisitor(t, s.url)
		p := v.get("/billing")
		if !p.atProviderLogin(issuer) || p.hopTo(s.url+"/login?return_to=%2Fbilling") == nil {
			t.Fatalf("billing while signed out: %s via %v, want the sign-in with return_to", p.url, p.hops)
		}
		p = v.login(p, u, pw, "")
		if !p.atProviderLogin(issuer) || p.hopTo(s.url+"/billing") == nil {
			t.Fatalf("after the sign-in: %s via %v, want billing's step-up at the provider", p.url, p.hops)
		}
		if !strings.Contains(p.body, "Confirm it") || !strings.Contains(p.body, `value="`+u+`"`) {
			t.Fatalf("the step-up prompt does not say what it asks or lacks the username: %.800s", p.body)
		}
		for _, code := range []string{"", "000000"} {
			if p = v.login(p, u, pw, code); p.status != http.StatusUnauthorized || !strings.Contains(p.body, `role="alert"`) ||
				!strings.Contains(p.body, "one-time code") {
				t.Fatalf("step-up with code %q: HTTP %d, want the prompt with a message: %.800s", code, p.status, p.body)
			}
		}
		wantBilling(t, v.login(p, u, pw, otp), s.url)
	})
	t.Run("profile with a query", func(t *testing.T) {
		v := newVisitor(t, s.url)
		p := v.login(v.get("/profile?tab=claims"), u, pw, "")
		if p.url.String() != s.url+"/profile?tab=claims" || !strings.Contains(p.body, "<h1>Profile</h1>") {
			t.Fatalf("profile deep link ended at %s", p.url)
		}
	})
	for _, evil := range []string{"https://evil.example/", "//evil.example/", `/\evil.example`} {
		t.Run("refuses "+evil, func(t *testing.T) {
			v := newVisitor(t, s.url)
			p := v.login(v.get("/login?return_to="+url.QueryEscape(evil)), u, pw, "")
			if p.url.String() != s.url+"/" {
				t.Fatalf("return_to %q ended at %s, want the home page", evil, p.url)
			}
		})
	}
}

// TestTwoSignInsInOneBrowser: two tabs start signing in; the one finished
// last still works (each sign-in has its own state cookie).
func TestTwoSignInsInOneBrowser(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	v := newVisitor(t, s.url)
	first := v.get("/profile")
	second := v.get("/billing")
	wantBilling(t, v.login(v.login(second, demostack.Username, demostack.Password, ""), demostack.Username, demostack.Password, demostack.OTP), s.url)
	p := v.login(first, demostack.Username, demostack.Password, "")
	if p.url.String() != s.url+"/profile" {
		t.Fatalf("the first tab's sign-in ended at %s (HTTP %d): %.400s", p.url, p.status, p.body)
	}
}

// TestPhoneDropsExpiredRequests: the simulated phone stops showing a CIBA
// request once it expired, and answering it anyway says so instead of
// failing.
func TestPhoneDropsExpiredRequests(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	v := newVisitor(t, s.url)
	v.login(v.get("/login"), demostack.Username, demostack.Password, "")
	form := url.Values{"scope": {"openid"}, "login_hint": {demostack.Username}, "binding_message": {"EXP-1"}, "requested_expiry": {"4"}}
	req, err := http.NewRequest(http.MethodPost, s.idp.BackchannelEndpoint(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(demostack.CIBAClientID, demostack.CIBASecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("backchannel request: HTTP %d", resp.StatusCode)
	}
	phone := v.get("/phone")
	m := phoneRE.FindStringSubmatch(phone.body)
	if m == nil || m[2] != "EXP-1" {
		t.Fatalf("the phone does not show the fresh request: %.800s", phone.body)
	}
	time.Sleep(5 * time.Second) // real time: the provider is a separate process
	if phone = v.get("/phone"); strings.Contains(phone.body, "EXP-1") || !strings.Contains(phone.body, `id="nothing"`) {
		t.Fatalf("the phone still shows the expired request: %.800s", phone.body)
	}
	p := v.post("/phone/"+m[1]+"/approve", nil)
	if p.url.Query().Get("done") != "expired" || p.status != http.StatusOK || !strings.Contains(p.body, "expired before you answered") {
		t.Fatalf("answering the expired request: %s HTTP %d: %.600s", p.url, p.status, p.body)
	}
}
