//go:build unix

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stepgate/stepgate/examples/billing/internal/demostack"
	"github.com/stepgate/stepgate/webui/webuitest"
)

// TestBrowserBillingJourney is the demo clicked through in Chromium against
// the real provider and a stepgate binary: sign in with a password, browse
// the profile, open Billing and enter the one-time code at the provider,
// land back on billing, open it again without a prompt, get asked again
// after the window, sign out (no access; the elevation is revoked at
// stepgate), open billing and sign in again (back to billing, which asks
// for the code again), and take a call-centre payment that stays pending
// until it is approved on the simulated phone.
func TestBrowserBillingJourney(t *testing.T) {
	webuitest.RequireChromium(t)
	t.Parallel()
	start := time.Now()
	s := startStack(t)
	c := newChrome(t, s.url)
	q := chromedp.ByQuery
	u, pw, otp := demostack.Username, demostack.Password, demostack.OTP
	unlocked := chromedp.WaitVisible(`#unlocked`, q)

	c.Run("the signed-out home page",
		c.Open("/"), chromedp.WaitVisible(`//h1[text()="Acme Billing"]`), c.Shot("01-home-signed-out"))
	c.Run("sign in with the password only",
		chromedp.Click(`//main//a[text()="Sign in"]`), chromedp.WaitVisible(`input[name="password"]`, q), c.Shot("02-provider-sign-in"),
		providerLogin(u, pw, ""),
		chromedp.WaitVisible(`//h1[text()="Welcome back"]`), c.Shot("03-home-signed-in"))
	c.Run("browse the profile freely",
		chromedp.Click(`//nav//a[text()="Profile"]`), chromedp.WaitVisible(`//h1[text()="Profile"]`), c.Shot("04-profile"))
	if got := c.Text(`table.grid`); !strings.Contains(got, acrPassword) {
		t.Errorf("the profile does not show the password sign-in's acr: %q", got)
	}

	c.Run("billing asks for the one-time code at the provider",
		chromedp.Click(`//nav//a[text()="Billing"]`), chromedp.WaitVisible(`input[name="otp"]`, q), c.Shot("05-step-up-prompt"))
	if loc := c.URL(); !strings.HasPrefix(loc, s.idp.Issuer()+"/interaction/") {
		t.Fatalf("billing stepped up at %s, want the provider's login", loc)
	}
	c.Run("enter the code and land back on billing",
		providerLogin(u, pw, otp), unlocked, c.Shot("06-billing"))
	done := time.Now()
	if loc := c.URL(); loc != s.url+"/billing" {
		t.Fatalf("after the step-up the browser is at %s, want %s/billing", loc, s.url)
	}

	c.Run("billing again within the window: no prompt",
		chromedp.Click(`//nav//a[text()="Home"]`), chromedp.WaitVisible(`//h1[text()="Welcome back"]`),
		chromedp.Click(`//nav//a[text()="Billing"]`), unlocked, c.Shot("07-billing-again"))
	if got := s.counts.get("/callback"); got != 1 {
		t.Fatalf("%d step-up callbacks after opening billing twice, want 1 (no second prompt)", got)
	}

	waitOutWindow(done)
	c.Run("after the window billing asks again",
		chromedp.Click(`//nav//a[text()="Home"]`), chromedp.WaitVisible(`//h1[text()="Welcome back"]`),
		chromedp.Click(`//nav//a[text()="Billing"]`), chromedp.WaitVisible(`input[name="otp"]`, q), c.Shot("08-asked-again"),
		providerLogin(u, pw, otp), unlocked)

	sess := s.onlySession(t)
	c.Run("sign out",
		chromedp.Click(`//button[text()="Sign out"]`), chromedp.WaitVisible(`//h1[text()="You are signed out"]`), c.Shot("09-signed-out"))
	if got := s.decide(t, sess.token, sess.id); got != "step_up" {
		t.Fatalf("after sign-out stepgate answers %s for the old session, want step_up (elevation revoked)", got)
	}
	c.Run("billing after sign-out: back to the sign-in",
		c.Open("/billing"), chromedp.WaitVisible(`input[name="password"]`, q), c.Shot("10-billing-signed-out"))
	if loc := c.URL(); !strings.HasPrefix(loc, s.idp.Issuer()) {
		t.Fatalf("billing after sign-out shows %s, want the provider's sign-in", loc)
	}

	c.Run("sign in again: on to billing, which asks for the code again",
		providerLogin(u, pw, ""), chromedp.WaitVisible(`input[name="otp"][required]`, q), c.Shot("11-deep-link-step-up"))
	var paymentURL string
	c.Run("take a call-centre payment",
		c.Open("/"), chromedp.WaitVisible(`//h1[text()="Welcome back"]`),
		chromedp.Click(`//nav//a[text()="Call-centre payment"]`), chromedp.WaitVisible(`#amount`, q), c.Shot("11-pay-form"),
		chromedp.Click(`//button[text()="Take payment"]`), chromedp.WaitVisible(`#status[data-status="pending"]`, q),
		chromedp.Location(&paymentURL), c.Shot("12-payment-pending"))
	code := c.Text(`#binding`)
	c.Run("approve it on the simulated phone",
		c.Open("/phone"), chromedp.WaitVisible(`button[data-code="`+code+`"]`, q), c.Shot("13-phone"),
		chromedp.Click(`button[data-code="`+code+`"]`, q), chromedp.WaitVisible(`//p[text()="Request approved."]`), c.Shot("14-phone-approved"))
	c.Run("the payment page turns approved",
		chromedp.Navigate(paymentURL), chromedp.WaitVisible(`#status[data-status="approved"]`, q), c.Shot("15-payment-approved"))
	if got := c.Text(`#status`); !strings.Contains(got, "€120.00 charged to INV-2041") {
		t.Errorf("approved payment says %q", got)
	}
	t.Logf("journey took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), c.Dir())
}
