package adminhttp_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stepgate/stepgate/webui/webuitest"
)

// TestBrowserReturnToStaysOnSite: in Chromium, which drops a tab from a
// URL and reads a backslash as a slash, a hostile return_to leaves the
// browser on the admin UI — on the sign-in form and on the sign-in page of
// a browser that is already signed in.
func TestBrowserReturnToStaysOnSite(t *testing.T) {
	webuitest.RequireChromium(t)
	e := newEnv(t)
	base := startAdmin(t, e)
	c := newChrome(t, base)
	q := chromedp.ByQuery
	onSite := func(step string) {
		t.Helper()
		if u := c.URL(); !strings.HasPrefix(u, base+"/") {
			t.Fatalf("%s: the browser left the site for %s", step, u)
		}
	}
	first := url.QueryEscape(hostileReturnTo[1]) // "/%09/evil.example/", the tab
	c.Run("sign in from a link with a tab in return_to",
		c.Open("/login?return_to="+first), chromedp.WaitVisible(`#password`, q),
		chromedp.SendKeys(`#password`, testPassword, q), chromedp.Submit(`#password`, q),
		chromedp.WaitVisible(`//h1[text()="Dashboard"]`))
	onSite("password sign-in")
	for _, raw := range hostileReturnTo {
		c.Run("signed in, open /login?return_to="+url.PathEscape(raw),
			c.Open("/login?return_to="+url.QueryEscape(raw)), chromedp.WaitVisible(`//h1[text()="Dashboard"]`))
		onSite("signed-in /login with " + url.PathEscape(raw))
	}
}
