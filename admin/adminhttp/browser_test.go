package adminhttp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/stepgate/stepgate/webui/webuitest"
)

// TestBrowserAdminJourney walks an admin through the UI in Chromium against
// the real decision API: sign in, create a client, change a draft (with a
// Rego syntax error shown inline, then fixed), run its tests, look at the
// impact, activate it through the engine's own sensitive-action gate, find
// a decision in the audit search, export it and sign out.
func TestBrowserAdminJourney(t *testing.T) {
	webuitest.RequireChromium(t)
	start := time.Now()
	var api decisionAPI
	e := newEnv(t, withDecisionAPI(t, &api))
	c := newChrome(t, startAdmin(t, e))
	q := chromedp.ByQuery

	c.Run("sign in",
		c.Open("/"), chromedp.WaitVisible(`#password`, q), c.Shot("01-login"),
		chromedp.SendKeys(`#password`, testPassword, q), chromedp.Submit(`#password`, q),
		chromedp.WaitVisible(`//h1[text()="Dashboard"]`), c.Shot("02-dashboard-empty"))
	var focused string
	c.Run("keyboard: the first Tab reaches the skip link",
		chromedp.KeyEvent(kb.Tab), chromedp.Evaluate(`document.activeElement.textContent`, &focused), c.Shot("03-focus"))
	if focused != "Skip to content" {
		t.Errorf("first Tab focuses %q, want the skip link", focused)
	}

	c.Run("create an API client",
		chromedp.Click(`//nav//a[text()="API clients"]`), chromedp.WaitVisible(`//h1[text()="API clients"]`), c.Shot("04-clients-empty"),
		chromedp.Click(`//a[text()="New client"]`), chromedp.WaitVisible(`#id`, q),
		chromedp.SendKeys(`#id`, "billing-svc", q), chromedp.SendKeys(`#name`, "Billing service", q),
		chromedp.Click(`input[name="assert_claims"]`, q), chromedp.SendKeys(`#return_to`, "https://billing.example/", q),
		chromedp.SendKeys(`#reason`, "CHG-1 onboard the billing service", q),
		chromedp.Click(`//button[contains(., "Create client")]`), chromedp.WaitVisible(`#client-key`, q), c.Shot("05-client-key"))
	key := strings.TrimSpace(c.Text(`#client-key`))
	var page string
	c.Run("the key is shown only once",
		c.Open("/clients/billing-svc"), chromedp.WaitVisible(`//h1[contains(., "billing-svc")]`),
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
	c.Run("the dashboard counts the decisions",
		chromedp.Click(`//nav//a[text()="Dashboard"]`), chromedp.WaitVisible(`svg.chart polyline`, q), c.Shot("06-dashboard"))
	// Two API decisions and the engine's decision on creating the key.
	if got := c.Text(`#stat-total`); got != "3" {
		t.Errorf("dashboard total = %q, want 3", got)
	}

	var ta string
	c.Run("open a draft",
		chromedp.Click(`//nav//a[text()="Policies"]`), chromedp.WaitVisible(`//h1[text()="Policies"]`), c.Shot("07-policies"),
		chromedp.Click(`//a[text()="#1"]`), chromedp.WaitVisible(`//h1[contains(., "Revision #1")]`), c.Shot("08-policy"),
		chromedp.Click(`//a[text()="Edit as new draft"]`), chromedp.WaitReady(`textarea.code`, q), // hidden once the editor loads
		chromedp.Evaluate(`[...document.querySelectorAll('input[name^="fn_"]')].filter(i => i.value === "stepgate/policy.rego").map(i => "#f_" + i.name.slice(3))[0] || ""`, &ta))
	if ta == "" {
		t.Fatal("the editor has no stepgate/policy.rego")
	}
	var src, kept string
	var mfaKept bool
	blank := `(//tr[.//input[@name="a_name" and @value=""]])[1]`
	mfaBox := `//tr[.//input[@name="a_name" and @value="reports.export"]]//input[@name="a_mfa"]`
	c.Run("add an action and introduce a Rego syntax error",
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
		chromedp.WaitVisible(`#compile-summary`, q), chromedp.WaitVisible(`.errorbox a[data-line]`, q), c.Shot("09-compile-error"), c.View("09-compile-error-screen"),
		chromedp.Value(ta, &kept, q), chromedp.Evaluate(`document.evaluate('`+mfaBox+`', document, null, 9, null).singleNodeValue.checked`, &mfaKept))
	if msg := c.Text(`div.errorbox`); !strings.Contains(msg, "Line ") {
		t.Errorf("compile error not shown at its line: %q", msg)
	}
	if !strings.Contains(kept, "broken if {") || !mfaKept {
		t.Errorf("the form lost the input after the error (source kept: %v, MFA box kept: %v)", strings.Contains(kept, "broken if {"), mfaKept)
	}

	c.Run("fix it and run the tests",
		chromedp.SetValue(ta, src, q),
		chromedp.Click(`//button[text()="Save as new draft"]`),
		chromedp.WaitVisible(`//h1[contains(., "Revision #2")]`),
		chromedp.Click(`//button[text()="Run tests"]`), chromedp.WaitVisible(`#tests`, q), c.Shot("10-tests"))
	if got := c.Text(`#tests h2`); !strings.Contains(got, " 0 failed") {
		t.Fatalf("tests: %q", got)
	}

	c.Run("impact analysis",
		chromedp.Click(`//a[text()="Impact analysis"]`), chromedp.WaitVisible(`//h1[text()="Impact of revision #2"]`), c.Shot("11-impact"))
	if got := c.Text(`#impact-counts`); !strings.Contains(got, "reports.export") || !strings.Contains(got, "deny") || !strings.Contains(got, "step_up") {
		t.Errorf("impact does not show reports.export deny → step_up: %q", got)
	}
	c.Run("the changed decision is listed", chromedp.WaitVisible(`a[href="/audit/decisions/`+before+`"]`, q))

	// The sign-in is now 20 minutes old; the default policy wants one
	// within 15 minutes for activation, so stepgate's engine asks for the
	// password again before it activates.
	e.clock.Advance(20 * time.Minute)
	c.Run("activate: the engine asks for a fresh sign-in",
		chromedp.Click(`//a[text()="Activate…"]`), chromedp.WaitVisible(`#impact`, q),
		chromedp.SendKeys(`#reason`, "add reports.export (SEC-42)", q),
		chromedp.Click(`input[name="confirm"]`, q), c.Shot("12-activate"),
		chromedp.Click(`//button[contains(., "Activate revision #2")]`),
		chromedp.WaitVisible(`//h1[text()="Confirm it is you"]`), c.Shot("13-reauth"),
		chromedp.SendKeys(`#password`, testPassword, q), chromedp.Submit(`#password`, q),
		chromedp.WaitVisible(`//h1[text()="Activate revision #2"]`), c.Shot("14-activate-again"))
	var reason string
	c.Run("activate after the fresh sign-in",
		chromedp.Value(`#reason`, &reason, q),
		chromedp.Click(`input[name="confirm"]`, q),
		chromedp.Click(`//button[contains(., "Activate revision #2")]`),
		chromedp.WaitVisible(`//h1[contains(., "Revision #2")]`), c.Shot("15-active"))
	if reason != "add reports.export (SEC-42)" {
		t.Errorf("the reason was not kept across the re-authentication: %q", reason)
	}
	if got := c.Text(`.flash`); !strings.Contains(got, "Revision 2 is now active") {
		t.Fatalf("activation flash: %q", got)
	}

	now = e.clock.Now()
	if _, outcome := api.mustDecide(key, claimsRequest("bob", "reports.export", []string{"pwd"}, now.Add(-time.Minute), nil)); outcome != "step_up" {
		t.Errorf("reports.export under revision 2: %s, want step_up", outcome)
	}
	paid, _ := api.mustDecide(key, claimsRequest("alice", "billing.pay", []string{"pwd"}, now.Add(-time.Minute),
		map[string]any{"amount": 50, "channel": "web"}))
	link := `a[href="/audit/decisions/` + paid + `"]`
	c.Run("find who paid without MFA last week",
		chromedp.Click(`//nav//a[text()="Audit"]`), chromedp.WaitVisible(`//h1[text()="Audit search"]`),
		chromedp.Click(`//a[contains(., "Payments without MFA")]`), chromedp.WaitVisible(link, q), c.Shot("16-audit"))
	search := c.Path()
	var actions []string
	c.Run("read the actions found", chromedp.Evaluate(`[...document.querySelectorAll("table tbody tr")].map(tr => tr.cells[2].textContent)`, &actions))
	for _, a := range actions {
		if a != "billing.pay" {
			t.Errorf("the payments search shows other actions: %q", actions)
			break
		}
	}
	c.Run("open the decision",
		chromedp.Click(link, q), chromedp.WaitVisible(`//h2[text()="Policy input (redacted)"]`), c.Shot("17-decision"),
		// Back to the results as a fresh load: chromedp loses track of the
		// DOM of a page restored from the back/forward cache.
		c.Open(search), chromedp.WaitVisible(link, q))
	var csv string
	c.Run("export the results as CSV",
		chromedp.Evaluate(`fetch([...document.querySelectorAll('a')].find(a => a.textContent === "CSV").href).then(r => r.text())`, &csv,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if !strings.HasPrefix(csv, "time,kind,decision_id") || !strings.Contains(csv, paid) || strings.Contains(csv, ",reports.export,") {
		t.Errorf("CSV export of the filter lacks %s or holds other actions:\n%s", paid, csv)
	}

	c.Run("sign out",
		chromedp.Click(`//button[text()="Sign out"]`), chromedp.WaitVisible(`//h1[text()="Sign in to stepgate"]`), c.Shot("18-signed-out"),
		c.Open("/audit"), chromedp.WaitVisible(`#password`, q))
	if loc := c.Path(); !strings.HasPrefix(loc, "/login") {
		t.Errorf("after signing out /audit shows %s, want the sign-in page", loc)
	}
	t.Logf("browser journey took %v; screenshots in %s", time.Since(start).Round(time.Millisecond), c.Dir())
}
