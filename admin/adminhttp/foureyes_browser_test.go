package adminhttp_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/approval"
	"github.com/stepgate/stepgate/admin/users"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/webui/webuitest"
)

// TestBrowserFourEyesJourney: with four-eyes approval on, Alice proposes an
// activation and nothing goes live; Bob, a second admin, opens her request,
// sees the change (table summary and file diff) and its impact on recent
// decisions, and approves it; the revision page then names both of them
// and the reason, and a decision under it says who activated it.
func TestBrowserFourEyesJourney(t *testing.T) {
	var api decisionAPI
	e := newEnv(t, withDecisionAPI(t, &api), withApproval)
	ctx := t.Context()
	accounts, err := users.New(users.Config{Store: e.store, Recorder: e.policies.Recorder()})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alice", "bob"} {
		if _, err := accounts.Add(ctx, "setup", n, admin.RoleAdmin, n+"-password-12"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := accounts.Add(ctx, "setup", "erin", admin.RoleAuditor, "erin-password-12"); err != nil {
		t.Fatal(err)
	}
	// A client, a decision the draft will change, and the draft itself.
	root := e.browser()
	root.signIn()
	key := createClient(t, root)
	before, outcome := api.mustDecide(key, claimsRequest("carol", "reports.export", []string{"pwd"}, e.clock.Now().Add(-time.Minute), nil))
	if outcome != "deny" {
		t.Fatalf("reports.export before: %s", outcome)
	}
	_, files, err := e.policies.Files(ctx, e.active.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := make(policy.Files, len(files))
	for k, v := range files {
		next[k] = v
	}
	next[admin.ActionsDataFile] = []byte(strings.Replace(string(files[admin.ActionsDataFile]), `"actions": {`,
		`"actions": {"reports.export": {"mfa": true, "max_age": 600}, "reports.view": {"max_age": 3600},`, 1))
	draft, _, err := e.policies.Push(ctx, "setup", next, "reports.export needs MFA", false)
	if err != nil {
		t.Fatal(err)
	}
	rev := strconv.FormatInt(draft.ID, 10)

	c := newChrome(t, startAdmin(t, e))
	q := chromedp.ByQuery
	signIn := func(name string) chromedp.Action {
		return chromedp.Tasks{c.Open("/login"), chromedp.WaitVisible(`#password`, q),
			chromedp.SetValue(`#user`, name, q), chromedp.SendKeys(`#password`, name+"-password-12", q), chromedp.Submit(`#password`, q),
			// The signed-in header, whatever the landing page shows.
			chromedp.WaitVisible(`//header//span[contains(., "` + name + `")]`)}
	}
	signOut := chromedp.Tasks{chromedp.Click(`//button[text()="Sign out"]`), chromedp.WaitVisible(`//h1[text()="Sign in to stepgate"]`)}

	c.Run("alice proposes the activation",
		signIn("alice"), c.Open("/policies/"+rev+"/activate"), chromedp.WaitVisible(`#impact`, q),
		chromedp.SendKeys(`#reason`, "reports.export needs MFA (SEC-77)", q), chromedp.Click(`input[name="confirm"]`, q),
		c.Shot("4e-01-request"),
		chromedp.Click(`//button[contains(., "Request activation of #`+rev+`")]`),
		chromedp.WaitVisible(`#approval-facts`, q), c.Shot("4e-02-requested"))
	if got := c.Text(`.flash`); !strings.Contains(got, "waiting for another admin") {
		t.Fatalf("request flash: %q", got)
	}
	if got := c.Text(`#decide`); !strings.Contains(got, "You asked for this") || strings.Contains(got, "Approve and activate") {
		t.Errorf("alice is offered to approve her own request: %q", got)
	}
	request := c.Path()
	if id, _, _ := e.store.ActiveRevisionID(ctx); id != e.active.ID {
		t.Fatal("the request activated the revision")
	}

	c.Run("bob finds the request",
		signOut, signIn("bob"),
		chromedp.Click(`//nav//a[text()="Policies"]`), chromedp.WaitVisible(`#approvals-link`, q),
		chromedp.Click(`#approvals-link`, q), chromedp.WaitVisible(`//h1[text()="Approvals"]`), c.Shot("4e-03-approvals"),
		chromedp.Click(`a[href="`+request+`"]`, q), chromedp.WaitVisible(`#approval-diff`, q), c.Shot("4e-04-review"))
	if got := c.Text(`#approval-facts`); !strings.Contains(got, "alice") || !strings.Contains(got, "reports.export needs MFA (SEC-77)") {
		t.Errorf("the request does not say who asked and why: %q", got)
	}
	if got := c.Text(`main`); !strings.Contains(got, "reports.export") || !strings.Contains(got, "data.json") {
		t.Errorf("the approver does not see the change: %q", got)
	}
	if got := c.Text(`#impact`); !strings.Contains(got, "reports.export") || !strings.Contains(got, "step_up") {
		t.Errorf("the approver does not see the impact (reports.export deny → step_up): %q", got)
	}
	c.Run("the changed decision is one click away", chromedp.WaitVisible(`#impact a[href="/policies/`+rev+`/impact"]`, q))

	c.Run("bob approves",
		chromedp.SendKeys(`#reason`, "reviewed the diff and the impact", q), chromedp.Click(`input[name="confirm"]`, q),
		chromedp.Click(`//button[contains(., "Approve and activate")]`),
		chromedp.WaitVisible(`#timeline`, q), c.Shot("4e-05-active"))
	if got := c.Text(`.flash`); !strings.Contains(got, "revision "+rev+" is now active") {
		t.Fatalf("approval flash: %q", got)
	}
	if id, _, _ := e.store.ActiveRevisionID(ctx); id != draft.ID {
		t.Fatalf("active revision %d after approval, want %d", id, draft.ID)
	}
	tl := c.Text(`#timeline`)
	for _, want := range []string{"alice", "bob", "reports.export needs MFA (SEC-77)", "now"} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q: %q", want, tl)
		}
	}

	after, outcome := api.mustDecide(key, claimsRequest("carol", "reports.export", []string{"pwd"}, e.clock.Now().Add(-time.Minute), nil))
	if outcome != "step_up" {
		t.Fatalf("reports.export after approval: %s", outcome)
	}
	c.Run("the decision names its revision's activator",
		c.Open("/audit/decisions/"+after), chromedp.WaitVisible(`#revision-activation`, q), c.Shot("4e-06-decision"))
	if got := c.Text(`#revision-activation`); !strings.Contains(got, "alice") || !strings.Contains(got, "approved by bob") ||
		!strings.Contains(got, "SEC-77") {
		t.Errorf("decision detail: %q", got)
	}
	_ = before

	// The auditor's question — who was allowed reports.* without MFA, under
	// which revision, changed by whom and why — in three interactions on
	// the audit page, naming people rather than a shared account.
	viewed, outcome := api.mustDecide(key, claimsRequest("carol", "reports.view", []string{"pwd"}, e.clock.Now().Add(-time.Minute), nil))
	if outcome != "allow" {
		t.Fatalf("reports.view with a password: %s", outcome)
	}
	c.Run("an auditor answers who was allowed without MFA and under whose change",
		signOut, signIn("erin"), c.Open("/audit"), chromedp.WaitVisible(`#action`, q),
		chromedp.SendKeys(`#action`, "REPORTS", q),
		chromedp.SetValue(`#mfa`, "no", q),
		chromedp.Submit(`#action`, q),
		chromedp.WaitVisible(`//tr[.//a[contains(@href, "`+viewed+`")]]`), c.Shot("4e-07-auditor-answer"))
	row := c.Text(`tr:has(a[href*="` + viewed + `"])`)
	for _, want := range []string{"carol", "reports.view", "allow", "#" + rev, "activated by alice", "approved by bob", "SEC-77"} {
		if !strings.Contains(row, want) {
			t.Errorf("the auditor's result row lacks %q: %q", want, row)
		}
	}
	c.Run("back as bob", signOut, signIn("bob"))

	c.Run("the People page says who may do what",
		chromedp.Click(`//nav//a[text()="People"]`), chromedp.WaitVisible(`#user-alice`, q), c.Shot("4e-08-people"))
	if got := c.Text(`#user-bob`); !strings.Contains(got, "admin") || !strings.Contains(got, "enabled") || !strings.Contains(got, "(you)") {
		t.Errorf("bob's row on the People page: %q", got)
	}
}

// TestBrowserPeopleAndApprovalPagesAccessible runs axe-core (WCAG 2.0 and
// 2.1, A and AA) on the People page, the approvals list and a pending
// request with its diff and impact, as an admin and as an auditor.
func TestBrowserPeopleAndApprovalPagesAccessible(t *testing.T) {
	webuitest.RequireAxe(t)
	e := newEnv(t, withApproval)
	ctx := admin.WithActorLabel(t.Context(), "alice")
	accounts, err := users.New(users.Config{Store: e.store, Recorder: e.policies.Recorder()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Add(ctx, "admin", "alice", admin.RoleAdmin, "alice-password-12"); err != nil {
		t.Fatal(err)
	}
	_, files, err := e.policies.Files(ctx, e.active.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := make(policy.Files, len(files))
	for k, v := range files {
		next[k] = v
	}
	next["extra.rego"] = []byte("package extra\n")
	draft, _, err := e.policies.Push(ctx, "setup", next, "second", false)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := approval.New(approval.Config{Store: e.store, Policies: e.policies, Recorder: e.policies.Recorder(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	req, err := svc.Request(ctx, "alice", "activate", draft.ID, "ship the extra module")
	if err != nil {
		t.Fatal(err)
	}
	pages := []struct{ name, path, ready string }{
		{"people", "/users", `#user-alice`},
		{"approvals", "/approvals", `//h1[text()="Approvals"]`},
		{"approval request", "/approvals/" + strconv.FormatInt(req.ID, 10), `#approval-diff`},
	}
	for _, role := range []string{"admin", "auditor"} {
		c := newChrome(t, startAdmin(t, e))
		if role == "admin" {
			c.Run("sign in", c.Open("/login"), chromedp.WaitVisible(`#password`, chromedp.ByQuery),
				chromedp.SendKeys(`#password`, testPassword, chromedp.ByQuery), chromedp.Submit(`#password`, chromedp.ByQuery),
				chromedp.WaitVisible(`.who`, chromedp.ByQuery))
		} else {
			aud := e.auditor()
			c.Run("auditor session", c.Open("/login"), chromedp.ActionFunc(func(ctx context.Context) error {
				return network.SetCookie("sg_session", aud.cookies["sg_session"]).WithURL(c.URL()).Do(ctx)
			}))
		}
		for _, p := range pages {
			sel := chromedp.ByQuery
			if strings.HasPrefix(p.ready, "//") {
				sel = chromedp.BySearch
			}
			c.Run(role+" "+p.name, c.Open(p.path), chromedp.WaitVisible(p.ready, sel))
			c.CheckA11y(role + " " + p.name)
		}
	}
}
