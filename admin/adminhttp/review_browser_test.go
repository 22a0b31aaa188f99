package adminhttp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/webui/webuitest"
)

// TestBrowserTableChangeReviewAndRollback walks a security admin through
// issue 16's review flow in Chromium: edit billing.view's max_age to 600
// in the requirements table, see the Rego tests stay green, see a diff
// that shows only that value under a one-line summary, see the impact in
// three columns (recorded, active now, the draft), activate, and roll back
// on a page that names the revision that becomes active. Each page is
// captured at 1280 and 390 px wide.
func TestBrowserTableChangeReviewAndRollback(t *testing.T) {
	webuitest.RequireChromium(t)
	var api decisionAPI
	e := newEnv(t, withDecisionAPI(t, &api))
	now := e.clock.Now()
	changed := "0192f6c1-7a3e-7c41-9b7a-1f2e3d4c5b6a"
	if err := e.store.AppendAudit(context.Background(), []storage.AuditRecord{
		decisionRecord(changed, "billing.view", "allow", 700, now.Add(-2*time.Minute)),
		decisionRecord("0192f6c1-7a3e-7c41-9b7a-1f2e3d4c5b70", "billing.view", "allow", 120, now.Add(-time.Minute)),
		decisionRecord("0192f6c1-7a3e-7c41-9b7a-1f2e3d4c5b71", "profile.update", "allow", 400, now.Add(-time.Minute)),
	}); err != nil {
		t.Fatal(err)
	}
	c := webuitest.NewChrome(t, startAdmin(t, e), webuitest.Options{Budget: 150 * time.Second, Width: 1280, Height: 900, ShotPrefix: "review-"})
	q := chromedp.ByQuery
	both := func(name string) chromedp.Action {
		return chromedp.Tasks{
			chromedp.EmulateViewport(1280, 900), c.Shot(name + "-1280"),
			chromedp.EmulateViewport(390, 844), c.Shot(name + "-390"),
			chromedp.EmulateViewport(1280, 900),
		}
	}

	maxAge := `//tr[.//input[@name="a_name" and @value="billing.view"]]//input[@name="a_max_age"]`
	c.Run("edit billing.view max_age to 600 in the table",
		c.Open("/"), chromedp.WaitVisible(`#password`, q),
		chromedp.SendKeys(`#password`, testPassword, q), chromedp.Submit(`#password`, q),
		chromedp.WaitVisible(`//h1[text()="Dashboard"]`),
		c.Open("/policies/1"), chromedp.WaitVisible(`//h1[contains(., "Revision #1")]`),
		chromedp.Click(`//a[text()="Edit as new draft"]`), chromedp.WaitVisible(maxAge),
		chromedp.SetValue(maxAge, "600"), chromedp.SetValue(`#message`, "billing.view: MFA within 10 minutes", q),
		c.View("01-table-edit"),
		chromedp.Click(`//button[text()="Save as new draft"]`), chromedp.WaitVisible(`//h1[contains(., "Revision #2")]`))

	c.Run("the Rego tests stay green",
		chromedp.Click(`//button[text()="Run tests"]`), chromedp.WaitVisible(`#tests`, q), c.View("02-tests"))
	if got := c.Text(`#tests h2`); !strings.HasSuffix(got, " 0 failed") || strings.HasPrefix(got, "Tests: 0 passed") {
		t.Fatalf("tests after the table edit: %q", got)
	}

	c.Run("the diff shows only that value, under the summary",
		chromedp.Click(`//button[text()="Diff"]`), chromedp.WaitVisible(`#table-summary`, q), both("03-diff"))
	if got := c.Text(`#table-summary ul`); got != "billing.view: max_age 900 → 600" {
		t.Errorf("table summary %q", got)
	}
	var files []string
	var del, add string
	c.Run("read the text diff",
		chromedp.Evaluate(`[...document.querySelectorAll("h3.diffname code")].map(e => e.textContent)`, &files),
		chromedp.Text(`pre.diff .del`, &del, q), chromedp.Text(`pre.diff .add`, &add, q))
	if len(files) != 1 || files[0] != "stepgate/data.json" || !strings.HasSuffix(del, `"max_age": 900`) || !strings.HasSuffix(add, `"max_age": 600`) {
		t.Errorf("diff: files %q, removed %q, added %q", files, del, add)
	}
	var gutter struct{ Display, Width string }
	c.Run("the gutter is two styled columns",
		chromedp.Evaluate(`(() => { const s = getComputedStyle(document.querySelector("pre.diff .ln")); return {Display: s.display, Width: s.width} })()`, &gutter))
	if gutter.Display != "inline-block" || gutter.Width == "auto" {
		t.Errorf("line-number gutter computed style %+v, want fixed-width inline blocks", gutter)
	}

	c.Run("impact in three columns",
		c.Open("/policies/2/impact"), chromedp.WaitVisible(`#impact-counts`, q), both("04-impact"))
	if got := c.Text(`#impact-counts thead`); !strings.Contains(got, "Active #1 now") || !strings.Contains(got, "With #2") {
		t.Errorf("impact counts header %q", got)
	}
	if got := c.Text(`table.impact-changes`); !strings.Contains(got, "Recorded") || !strings.Contains(got, changed) || strings.Contains(got, "5b71") {
		t.Errorf("changed decisions %q: want the full id %s with its recorded outcome, and not profile.update's drift", got, changed)
	}

	c.Run("activate",
		chromedp.Click(`//a[text()="Activate…"]`), chromedp.WaitVisible(`#impact`, q),
		chromedp.SendKeys(`#reason`, "billing.view within 10 minutes (SEC-77)", q),
		chromedp.Click(`input[name="confirm"]`, q), both("05-activate"),
		chromedp.Click(`//button[contains(., "Activate revision #2")]`),
		chromedp.WaitVisible(`//h1[contains(., "Revision #2")]`))
	if got := c.Text(`.flash`); !strings.Contains(got, "Revision 2 is now active") {
		t.Fatalf("activation flash %q", got)
	}

	c.Run("roll back, the target named",
		chromedp.Click(`//nav//a[text()="Policies"]`), chromedp.WaitVisible(`//h1[text()="Policies"]`),
		chromedp.Click(`//a[text()="Roll back to the previous revision"]`),
		chromedp.WaitVisible(`//h1[text()="Roll back to revision #1"]`), both("06-rollback"))
	if got := c.Text(`#rollback-target`); !strings.Contains(got, "makes revision #1 the active policy again, replacing revision #2") {
		t.Errorf("rollback target %q", got)
	}
	if got := c.Text(`#table-summary ul`); got != "billing.view: max_age 600 → 900" {
		t.Errorf("rollback summary %q", got)
	}
	c.Run("confirm the rollback",
		chromedp.SendKeys(`#reason`, "undo SEC-77", q), chromedp.Click(`input[name="confirm"]`, q),
		chromedp.Click(`//button[text()="Roll back to revision #1"]`),
		chromedp.WaitVisible(`//h1[contains(., "Revision #1")]`), c.View("07-rolled-back"))
	if got := c.Text(`.flash`); !strings.Contains(got, "Rolled back: revision 1 is active again.") {
		t.Errorf("rollback flash %q", got)
	}
	t.Logf("screenshots in %s", c.Dir())
}
