//go:build unix

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/stepgate/stepgate/examples/billing/internal/demostack"
	"github.com/stepgate/stepgate/webui/webuitest"
)

// What the journeys wait for.
var (
	q            = chromedp.ByQuery
	onBilling    = chromedp.WaitVisible(`#unlocked`, q)
	atStepUp     = chromedp.WaitVisible(`input[name="otp"][required]`, q)
	atHome       = chromedp.WaitVisible(`//h1[text()="Welcome back"]`)
	stepUpFinish = providerStepUp(demostack.Password, demostack.OTP)
)

// back is the browser's Back button, then a load of the page it went to.
// Chromium may restore that page from its back/forward cache, where
// chromedp no longer sees the document (every query hangs); loading the
// same URL again is what a browser without that cache does with these
// no-store pages anyway.
var back = chromedp.ActionFunc(func(ctx context.Context) error {
	var before, now string
	if err := chromedp.Evaluate(`location.href`, &before).Do(ctx); err != nil {
		return err
	}
	if err := chromedp.Evaluate(`setTimeout(() => history.back(), 0), true`, nil).Do(ctx); err != nil {
		return err
	}
	for now = before; now == before; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if err := chromedp.Evaluate(`location.href`, &now).Do(ctx); err != nil {
			return err
		}
	}
	return chromedp.Navigate(now).Do(ctx)
})

// providerStepUp answers the provider's step-up prompt, whose username is
// prefilled: password and code only.
func providerStepUp(password, otp string) chromedp.Tasks {
	t := chromedp.Tasks{atStepUp, chromedp.SetValue(`input[name="password"]`, password, q)}
	if otp != "" {
		t = append(t, chromedp.SetValue(`input[name="otp"]`, otp, q))
	}
	return append(t, chromedp.Click(`button.primary`, q))
}

// signedInChrome starts the stack and a browser signed in with the
// password only. The budget is generous: CI runs these journeys with -race
// beside every other package on two CPUs.
func signedInChrome(t *testing.T, window time.Duration) (*stack, *webuitest.Chrome) {
	t.Helper()
	s := startStackWindow(t, window)
	c := webuitest.NewChrome(t, s.url, webuitest.Options{Budget: 4 * time.Minute, Width: 1280, Height: 800, ShotPrefix: "billing-"})
	c.Run("sign in", c.Open("/login"), providerLogin(demostack.Username, demostack.Password, ""), atHome)
	return s, c
}

// TestBrowserTwoTabsStepUp opens Billing in two tabs of one browser; both
// reach the provider's prompt, and whichever is finished first, both end
// on Billing.
func TestBrowserTwoTabsStepUp(t *testing.T) {
	webuitest.RequireChromium(t)
	t.Parallel()
	s, a := signedInChrome(t, testWindow)
	b := a.NewTab()
	for round, order := range [][2]*webuitest.Chrome{{b, a}, {a, b}} {
		name := []string{"tab-b-first", "tab-a-first"}[round]
		a.Run(name+": billing in tab A", a.Open("/billing"), atStepUp, a.Shot("tabs-"+name+"-1-a-prompt"))
		b.Run(name+": billing in tab B", b.Open("/billing"), atStepUp, b.Shot("tabs-"+name+"-2-b-prompt"))
		order[0].Run(name+": finish the first", stepUpFinish, onBilling, order[0].Shot("tabs-"+name+"-3-first-done"))
		order[1].Run(name+": finish the second", stepUpFinish, onBilling, order[1].Shot("tabs-"+name+"-4-second-done"))
		done := time.Now()
		for i, c := range []*webuitest.Chrome{a, b} {
			if got := c.URL(); got != s.url+"/billing" {
				t.Fatalf("%s: tab %d ended at %s, want billing", name, i, got)
			}
		}
		if round == 0 {
			waitOutWindow(done) // so that billing asks again for the second round
		}
	}
	if got := s.counts.get("/callback"); got != 4 {
		t.Fatalf("%d step-up callbacks for two rounds of two tabs, want 4", got)
	}
	if strings.Contains(s.log.String(), "step-up callback failed") {
		t.Fatalf("a callback failed:\n%s", s.log)
	}
}

// TestBrowserCallbackFailures walks through what goes wrong in real
// browsers: a code left out, Cancel at the provider, a tampered state, a
// replayed callback URL and Back after a finished step-up. Each shows a
// page that says what happened with a working "Try again", nothing is
// elevated by a failure, and Billing afterwards prompts again.
func TestBrowserCallbackFailures(t *testing.T) {
	webuitest.RequireChromium(t)
	t.Parallel()
	s, c := signedInChrome(t, time.Minute)
	sess := s.onlySession(t)

	c.Run("billing shows the step-up prompt",
		chromedp.Click(`//nav//a[text()="Billing"]`), atStepUp, c.Shot("fail-01-step-up-prompt"))
	if got := c.Text(`h1`); got != "Confirm it's you" {
		t.Errorf("step-up prompt heading %q", got)
	}
	var username string
	c.Run("read the username", chromedp.Value(`input[name="username"]`, &username, q))
	if username != demostack.Username {
		t.Errorf("the step-up prompt's username is %q, want it prefilled with %q", username, demostack.Username)
	}
	c.Run("the password alone is not enough: the browser asks for the code",
		providerStepUp(demostack.Password, ""), chromedp.WaitVisible(`input[name="otp"]:invalid`, q), c.Shot("fail-02-code-missing"))
	c.Run("a wrong code",
		providerStepUp(demostack.Password, "000000"), chromedp.WaitVisible(`p.error`, q), c.Shot("fail-03-wrong-code"))
	if got := c.Text(`p.error`); !strings.Contains(got, "not correct") {
		t.Errorf("wrong-code message %q", got)
	}

	c.Run("cancel at the provider",
		chromedp.Click(`//button[text()="Cancel"]`), chromedp.WaitVisible(`.stepgate-error[data-kind="cancelled"]`, q),
		c.Shot("fail-04-cancelled"))
	if got := c.Text(`h1`); got != "Sign-in cancelled" {
		t.Errorf("cancelled page heading %q", got)
	}
	if got := s.decide(t, sess.token, sess.id); got != "step_up" {
		t.Fatalf("after Cancel stepgate answers %s, want step_up (nothing elevated)", got)
	}
	c.Run("try again after cancelling prompts again",
		chromedp.Click(`a.stepgate-try-again`, q), atStepUp, c.Shot("fail-05-prompted-again"))

	c.Run("a tampered state",
		c.Open("/callback?state=tampered&code=forged"), chromedp.WaitVisible(`.stepgate-error[data-kind="unknown_state"]`, q),
		c.Shot("fail-06-tampered-state"))
	c.Run("the provider's prompt is still there and finishes",
		back, stepUpFinish, onBilling, c.Shot("fail-07-billing"))
	if got := c.URL(); got != s.url+"/billing" {
		t.Fatalf("after the tampered state the step-up ended at %s", got)
	}

	c.Run("back after the finished step-up: the provider's expired page",
		back, chromedp.WaitVisible(`//h1[text()="This sign-in page has expired"]`), c.Shot("fail-08-back-expired"))

	replay := s.counts.lastURL("/callback")
	c.Run("the callback URL replayed",
		c.Open(replay), chromedp.WaitVisible(`.stepgate-error[data-kind="replayed"]`, q), c.Shot("fail-09-replayed"))
	c.Run("try again after the replay: billing, still unlocked",
		chromedp.Click(`a.stepgate-try-again`, q), onBilling, c.Shot("fail-10-billing-after-replay"))
	if failures := strings.Count(s.log.String(), "step-up callback failed"); failures != 3 {
		t.Fatalf("%d callback failures logged, want 3 (cancelled, tampered, replayed):\n%s", failures, s.log)
	}
	if !strings.Contains(s.log.String(), "kind=cancelled") || !strings.Contains(s.log.String(), "kind=replayed") {
		t.Fatalf("the failures are not logged by kind:\n%s", s.log)
	}
}

// TestBrowserLostRedirectNeverSticks: the pending step-up's cookie is lost
// while the user is at the provider (cleared cookies, a privacy
// extension), so the callback cannot be matched. Billing afterwards must
// work — from the provider's fresh login or with one more prompt — and
// never lock the user out.
func TestBrowserLostRedirectNeverSticks(t *testing.T) {
	webuitest.RequireChromium(t)
	t.Parallel()
	s, c := signedInChrome(t, time.Minute)
	c.Run("billing asks for the code", chromedp.Click(`//nav//a[text()="Billing"]`), atStepUp)
	c.Run("the browser loses the step-up cookie", chromedp.ActionFunc(func(ctx context.Context) error {
		cookies, err := network.GetCookies().WithURLs([]string{s.url + "/callback"}).Do(ctx)
		if err != nil {
			return err
		}
		for _, ck := range cookies {
			if strings.HasPrefix(ck.Name, "billing_stepup_") {
				if err := network.DeleteCookies(ck.Name).WithURL(s.url + "/callback").Do(ctx); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	c.Run("the callback cannot be matched",
		stepUpFinish, chromedp.WaitVisible(`.stepgate-error[data-kind="unknown_state"]`, q), c.Shot("lost-01-unmatched"))
	c.Run("billing again", chromedp.Click(`//nav//a[text()="Billing"]`),
		chromedp.WaitVisible(`#unlocked, input[name="otp"]`, q), c.Shot("lost-02-billing-again"))
	if strings.HasPrefix(c.URL(), s.idp.Issuer()) {
		c.Run("prompted again: enter the code", stepUpFinish, onBilling)
	}
	if got := c.URL(); got != s.url+"/billing" {
		t.Fatalf("billing after a lost callback ended at %s", got)
	}
	if got := s.counts.get("/billing"); got > 3 {
		t.Fatalf("%d billing requests: a loop", got)
	}
}

// TestBrowserDeepLinkAndWindow: billing opened while signed out comes back
// to billing through the sign-in and the step-up, and the home page states
// the policy's real window.
func TestBrowserDeepLinkAndWindow(t *testing.T) {
	webuitest.RequireChromium(t)
	t.Parallel()
	s := startStack(t)
	c := webuitest.NewChrome(t, s.url, webuitest.Options{Budget: 3 * time.Minute, Width: 1280, Height: 800, ShotPrefix: "billing-"})
	c.Run("billing while signed out: the sign-in", c.Open("/billing"), chromedp.WaitVisible(`input[name="password"]`, q),
		c.Shot("deep-01-sign-in"))
	c.Run("sign in: straight on to billing's step-up", providerLogin(demostack.Username, demostack.Password, ""), atStepUp,
		c.Shot("deep-02-step-up"))
	c.Run("the code: billing", stepUpFinish, onBilling, c.Shot("deep-03-billing"))
	if got := c.URL(); got != s.url+"/billing" {
		t.Fatalf("the deep link ended at %s", got)
	}
	c.Run("home states the window", c.Open("/"), atHome, c.Shot("deep-04-home-window"))
	if got := c.Text(`a.card[href="/billing"] p`); !strings.Contains(got, "within 5 seconds") {
		t.Fatalf("home page says %q, want the policy's 5-second window", got)
	}
}
