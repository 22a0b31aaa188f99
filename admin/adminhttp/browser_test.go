package adminhttp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserAdminJourney walks an admin through the UI in Chromium against
// the real decision API: sign in, create a client, change a draft (with a
// Rego syntax error shown inline, then fixed), run its tests, look at the
// impact, activate it through the engine's own sensitive-action gate, find
// a decision in the audit search, export it and sign out.
func TestBrowserAdminJourney(t *testing.T) {
	requireChromium(t)
	start := time.Now()
	var api decisionAPI
	e := newEnv(t, withDecisionAPI(t, &api))
	c := newChrome(t, startAdmin(t, e))
	q := chromedp.ByQuery

	c.run("sign in",
		c.open("/"), chromedp.WaitVisible(`#password`, q), c.shot("01-login"),
		chromedp.SendKeys(`#password`, testPassword, q), chromedp.Submit(`#password`, q),
		chromedp.WaitVisible(`//h1[text()="Dashboard"]`), c.shot("02-dashboard-empty"))
	var focused string
	c.run("keyboard: the first Tab reaches the skip link",
		chromedp.KeyEvent(kb.Tab), chromedp.Evaluate(`document.activeElement.textContent`, &focused), c.shot("03-focus"))
	if focused != "Skip to content" {
		t.Errorf("first Tab focuses %q, want the skip link", focused)
	}

	c.run("create an API client",
		chromedp.Click(`//nav//a[text()="API clients"]`), chromedp.WaitVisible(`//h1[text()="API clients"]`), c.shot("04-clients-empty"),
		chromedp.Click(`//a[text()="New client"]`), chromedp.WaitVisible(`#id`, q),
		chromedp.SendKeys(`#id`, "billing-svc", q), chromedp.SendKeys(`#name`, "Billing service", q),
		chromedp.Click(`input[name="assert_claims"]`, q), chromedp.SendKeys(`#return_to`, "https://billing.example/", q),
		chromedp.Click(`//button[contains(., "Create client")]`), chromedp.WaitVisible(`#client-key`, q), c.shot("05-client-key"))
	key := strings.TrimSpace(c.text(`#client-key`))
	var page string
	c.run("the key is shown only once",
		c.open("/clients/billing-svc"), chromedp.WaitVisible(`//h1[contains(., "billing-svc")]`),
		chromedp.OuterHTML(`html`, &page, q))
	if !strings.HasPrefix(key, "sgk_") || strings.Contains(page, key) {
		t.Fatalf("client key %q: not a key, or shown again on the client page", key)
	}

	// Traffic under revision 1: report exports are not in the policy yet,
	// so they are denied.
	now := e.clock.Now()
	before, outcome := api.mustDecide(key, claimsRequest("bob", "reports.export", []string{"pwd"}, now.Add(-time.Minute), nil))
	if outcome != "deny" {
		t.Fatalf("reports.export under revision 1: %s, want deny", outcome)
	}
	api.mustDecide(key, claimsRequest("carol", "billing.view", []string{"pwd", "otp"}, now.Add(-time.Minute), nil))
	c.run("the dashboard counts the decisions",
		chromedp.Click(`//nav//a[text()="Dashboard"]`), chromedp.WaitVisible(`svg.chart polyline`, q), c.shot("06-dashboard"))
	// Two API decisions and the engine's decision on creating the key.
	if got := c.text(`#stat-total`); got != "3" {
		t.Errorf("dashboard total = %q, want 3", got)
	}

	var ta string
	c.run("open a draft",
		chromedp.Click(`//nav//a[text()="Policies"]`), chromedp.WaitVisible(`//h1[text()="Policies"]`), c.shot("07-policies"),
		chromedp.Click(`//a[text()="#1"]`), chromedp.WaitVisible(`//h1[contains(., "Revision #1")]`), c.shot("08-policy"),
		chromedp.Click(`//a[text()="Edit as new draft"]`), chromedp.WaitVisible(`textarea.code`, q),
		chromedp.Evaluate(`[...document.querySelectorAll('input[name^="fn_"]')].filter(i => i.value === "stepgate/policy.rego").map(i => "#f_" + i.name.slice(3))[0] || ""`, &ta))
	if ta == "" {
		t.Fatal("the editor has no stepgate/policy.rego")
	}
	var src, kept string
	var mfaKept bool
	blank := `(//tr[.//input[@name="a_name" and @value=""]])[1]`
	mfaBox := `//tr[.//input[@name="a_name" and @value="reports.export"]]//input[@name="a_mfa"]`
	c.run("add an action and introduce a Rego syntax error",
		chromedp.Value(ta, &src, q),
		chromedp.Click(blank+`//input[@name="a_mfa"]`),
		chromedp.SendKeys(blank+`//input[@name="a_max_age"]`, "900"),
		chromedp.SendKeys(blank+`//input[@name="a_desc"]`, "Export reports: MFA within 15 minutes."),
		chromedp.SendKeys(blank+`//input[@name="a_name"]`, "reports.export"),
		chromedp.SetValue(`#message`, "Add reports.export with MFA", q),
		chromedp.ActionFunc(func(ctx context.Context) error {
			return chromedp.SetValue(ta, strings.Replace(src, "package stepgate\n", "package stepgate\n\nbroken if {\n", 1), q).Do(ctx)
		}),
		chromedp.Click(`//button[text()="Save as new draft"]`),
		chromedp.WaitVisible(`#compile-summary`, q), chromedp.WaitVisible(`.errorbox a[data-line]`, q), c.shot("09-compile-error"), c.view("09-compile-error-screen"),
		chromedp.Value(ta, &kept, q), chromedp.Evaluate(`document.evaluate('`+mfaBox+`', document, null, 9, null).singleNodeValue.checked`, &mfaKept))
	if msg := c.text(`div.errorbox`); !strings.Contains(msg, "Line ") {
		t.Errorf("compile error not shown at its line: %q", msg)
	}
	if !strings.Contains(kept, "broken if {") || !mfaKept {
		t.Errorf("the form lost the input after the error (source kept: %v, MFA box kept: %v)", strings.Contains(kept, "broken if {"), mfaKept)
	}

	c.run("fix it and run the tests",
		chromedp.SetValue(ta, src, q),
		chromedp.Click(`//button[text()="Save as new draft"]`),
		chromedp.WaitVisible(`//h1[contains(., "Revision #2")]`),
		chromedp.Click(`//button[text()="Run tests"]`), chromedp.WaitVisible(`#tests`, q), c.shot("10-tests"))
	if got := c.text(`#tests h2`); !strings.Contains(got, " 0 failed") {
		t.Fatalf("tests: %q", got)
	}

	c.run("impact analysis",
		chromedp.Click(`//a[text()="Impact analysis"]`), chromedp.WaitVisible(`//h1[text()="Impact of revision #2"]`), c.shot("11-impact"))
	if got := c.text(`#impact-counts`); !strings.Contains(got, "reports.export") || !strings.Contains(got, "deny") || !strings.Contains(got, "step_up") {
		t.Errorf("impact does not show reports.export deny → step_up: %q", got)
	}
	c.run("the changed decision is listed", chromedp.WaitVisible(`a[href="/audit/decisions/`+before+`"]`, q))

	// The sign-in is now 20 minutes old; the default policy wants one
	// within 15 minutes for activation, so stepgate's engine asks for the
	// password again before it activates.
	e.clock.Advance(20 * time.Minute)
	c.run("activate: the engine asks for a fresh sign-in",
		chromedp.Click(`//a[text()="Activate…"]`), chromedp.WaitVisible(`#impact`, q),
		chromedp.SendKeys(`#reason`, "add reports.export (SEC-42)", q),
		chromedp.Click(`input[name="confirm"]`, q), c.shot("12-activate"),
		chromedp.Click(`//button[contains(., "Activate revision #2")]`),
		chromedp.WaitVisible(`//h1[text()="Confirm it is you"]`), c.shot("13-reauth"),
		chromedp.SendKeys(`#password`, testPassword, q), chromedp.Submit(`#password`, q),
		chromedp.WaitVisible(`//h1[text()="Activate revision #2"]`), c.shot("14-activate-again"))
	var reason string
	c.run("activate after the fresh sign-in",
		chromedp.Value(`#reason`, &reason, q),
		chromedp.Click(`input[name="confirm"]`, q),
		chromedp.Click(`//button[contains(., "Activate revision #2")]`),
		chromedp.WaitVisible(`//h1[contains(., "Revision #2")]`), c.shot("15-active"))
	if reason != "add reports.export (SEC-42)" {
		t.Errorf("the reason was not kept across the re-authentication: %q", reason)
	}
	if got := c.text(`.flash`); !strings.Contains(got, "Revision 2 is now active") {
		t.Fatalf("activation flash: %q", got)
	}

	now = e.clock.Now()
	if _, outcome := api.mustDecide(key, claimsRequest("bob", "reports.export", []string{"pwd"}, now.Add(-time.Minute), nil)); outcome != "step_up" {
		t.Errorf("reports.export under revision 2: %s, want step_up", outcome)
	}
	paid, _ := api.mustDecide(key, claimsRequest("alice", "billing.pay", []string{"pwd"}, now.Add(-time.Minute),
		map[string]any{"amount": 50, "channel": "web"}))
	link := `a[href="/audit/decisions/` + paid + `"]`
	c.run("find who paid without MFA last week",
		chromedp.Click(`//nav//a[text()="Audit"]`), chromedp.WaitVisible(`//h1[text()="Audit search"]`),
		chromedp.Click(`//a[contains(., "Payments without MFA")]`), chromedp.WaitVisible(link, q), c.shot("16-audit"))
	search := c.location()
	if rows := c.text(`table tbody`); strings.Contains(rows, "reports.export") {
		t.Errorf("the payments search shows other actions: %q", rows)
	}
	c.run("open the decision",
		chromedp.Click(link, q), chromedp.WaitVisible(`//h2[text()="Policy input (redacted)"]`), c.shot("17-decision"),
		// Back to the results as a fresh load: chromedp loses track of the
		// DOM of a page restored from the back/forward cache.
		c.open(search), chromedp.WaitVisible(link, q))
	var csv string
	c.run("export the results as CSV",
		chromedp.Evaluate(`fetch([...document.querySelectorAll('a')].find(a => a.textContent === "CSV").href).then(r => r.text())`, &csv,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if !strings.HasPrefix(csv, "time,kind,decision_id") || !strings.Contains(csv, paid) || strings.Contains(csv, "reports.export") {
		t.Errorf("CSV export of the filter lacks %s or holds other actions:\n%s", paid, csv)
	}

	c.run("sign out",
		chromedp.Click(`//button[text()="Sign out"]`), chromedp.WaitVisible(`//h1[text()="Sign in to stepgate"]`), c.shot("18-signed-out"),
		c.open("/audit"), chromedp.WaitVisible(`#password`, q))
	if loc := c.location(); !strings.HasPrefix(loc, "/login") {
		t.Errorf("after signing out /audit shows %s, want the sign-in page", loc)
	}
	t.Logf("browser journey took %v; screenshots in %s", time.Since(start).Round(time.Millisecond), c.dir)
}
