//go:build unix

package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stepgate/stepgate/webui/webuitest"
)

// newChrome starts the shared headless Chromium for the demo at base.
func newChrome(t testing.TB, base string) *webuitest.Chrome {
	return webuitest.NewChrome(t, base, webuitest.Options{Budget: 90 * time.Second, Width: 1280, Height: 800, ShotPrefix: "billing-"})
}

// providerLogin fills the provider's login form (an empty otp: password
// only) and submits it. The username may be prefilled: it is replaced.
func providerLogin(username, password, otp string) chromedp.Tasks {
	q := chromedp.ByQuery
	t := chromedp.Tasks{
		chromedp.WaitVisible(`input[name="username"]`, q),
		chromedp.SetValue(`input[name="username"]`, username, q),
		chromedp.SendKeys(`input[name="password"]`, password, q),
	}
	if otp != "" {
		t = append(t, chromedp.SendKeys(`input[name="otp"]`, otp, q))
	}
	return append(t, chromedp.Click(`button[type="submit"]`, q))
}
