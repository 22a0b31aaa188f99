package adminhttp_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/stepgate/stepgate/webui/webuitest"
)

// TestBrowserAccessibility runs axe-core (WCAG 2.0 and 2.1, A and AA) on
// every admin page, signed in as an admin and as an auditor, and checks
// that no page is wider than a 390 px phone: wide content scrolls in its
// own container instead.
func TestBrowserAccessibility(t *testing.T) {
	webuitest.RequireChromium(t)
	webuitest.RequireAxe(t)
	var api decisionAPI
	e := newEnv(t, withDecisionAPI(t, &api))
	base := startAdmin(t, e)

	// Data for every page: a client in a key overlap, decisions, a step-up.
	b := e.browser()
	b.signIn()
	key := createClient(t, b)
	keyAfterRedirect(t, b, b.post("/clients/billing-svc/rotate", url.Values{"reason": {"CHG-2"}, "grace": {"24h0m0s"}}), "/clients/billing-svc")
	now := e.clock.Now()
	paid, _ := api.mustDecide(key, claimsRequest("alice", "billing.pay", []string{"pwd"}, now.Add(-time.Minute), map[string]any{"amount": 50}))
	api.mustDecide(key, claimsRequest("bob", "billing.view", []string{"pwd", "mfa"}, now.Add(-time.Minute), nil))
	api.mustDecide(key, claimsRequest("carol", "billing.pay", []string{"pwd", "mfa"}, now.Add(-time.Minute), map[string]any{"channel": "pos"}))
	_ = key

	pages := []string{"/", "/?window=7d", "/policies", "/policies/1", "/policies/1/playground", "/policies/1/impact",
		"/policies/diff?a=1&b=1", "/audit", "/audit?subject=ALI&action=billing&order=oldest",
		"/audit?since=2026-03-02T10:00&until=2026-03-01T10:00", "/audit/decisions/" + paid, "/audit/verify", "/audit/admin",
		"/audit?kind=admin", "/clients", "/clients/billing-svc", "/playground?decision=" + paid}
	adminOnly := []string{"/policies/1/edit", "/policies/rollback", "/clients/new"}

	for _, role := range []string{"admin", "auditor"} {
		t.Run(role, func(t *testing.T) {
			c := webuitest.NewChrome(t, base, webuitest.Options{Budget: 4 * time.Minute, ShotPrefix: "a11y-" + role + "-"})
			q := chromedp.ByQuery
			if role == "admin" {
				c.Run("the sign-in page", c.Open("/login"), chromedp.WaitVisible(`#password`, q))
				c.CheckA11y("/login")
				c.Run("sign in", chromedp.SendKeys(`#password`, testPassword, q), chromedp.Submit(`#password`, q),
					chromedp.WaitVisible(`//h1[text()="Dashboard"]`))
			} else {
				session := e.auditor().cookies["sg_session"]
				u, _ := url.Parse(base)
				c.Run("sign in as an auditor", chromedp.ActionFunc(func(ctx context.Context) error {
					return network.SetCookie("sg_session", session).WithDomain(u.Hostname()).WithPath("/").Do(ctx)
				}), c.Open("/"), chromedp.WaitVisible(`//h1[text()="Dashboard"]`))
			}
			// Every page the navigation offers, and the deeper ones.
			var nav []string
			c.Run("read the navigation", chromedp.Evaluate(`[...document.querySelectorAll("header nav a")].map(a => a.getAttribute("href"))`, &nav))
			list := append(slices.Clone(pages), nav...)
			if role == "admin" {
				list = append(list, adminOnly...)
			}
			slices.Sort(list)
			for _, p := range slices.Compact(list) {
				c.Run("open "+p, c.Open(p), chromedp.WaitReady(`main`, q))
				c.CheckA11y(p)
			}
			c.Run("phone width", chromedp.EmulateViewport(390, 844))
			for _, p := range slices.Compact(list) {
				var wide []string
				c.Run("open "+p+" at 390 px", c.Open(p), chromedp.WaitReady(`main`, q),
					chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth
						? [...document.querySelectorAll("main *")].filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
							&& !el.closest(".tablewrap, .chartwrap, pre, .cm-editor")).slice(0, 5).map(el => el.tagName + "." + el.className + " " + (el.id || ""))
						: []`, &wide))
				if len(wide) > 0 {
					c.Run("screenshot "+p, c.Shot("wide-"+webuitest.Slug(p)))
					t.Errorf("%s is wider than 390 px; overflowing: %s", p, strings.Join(wide, ", "))
				}
			}
		})
	}
}
