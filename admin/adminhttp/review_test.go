package adminhttp_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
)

// tableForm is the edit form of revision rev with the requirements table
// as the edit page shows it, billing.view's max_age set to maxAge.
func tableForm(t *testing.T, b *browser, rev, maxAge string) url.Values {
	t.Helper()
	r := b.get("/policies/" + rev + "/edit")
	form := editForm(t, b, rev, func(_, c string) string { return c })
	form.Set("table", "1")
	form.Set("message", "billing.view max_age "+maxAge)
	for _, f := range []string{"a_name", "a_desc", "a_amr", "a_acr", "a_max_age", "a_ciba_channels", "a_ciba_amount", "a_ciba_binding"} {
		form[f] = inputValues(r.Body, f)
	}
	form["a_mfa"], form["a_fresh"] = checkedValues(r.Body, "a_mfa"), checkedValues(r.Body, "a_fresh")
	for i, n := range form["a_name"] {
		if n == "billing.view" {
			form["a_max_age"][i] = maxAge
		}
	}
	return form
}

var (
	inputTagRE = regexp.MustCompile(`<input[^>]*>`)
	valueRE    = regexp.MustCompile(` value="([^"]*)"`)
)

// inputValues are the values of every input named name, in page order.
func inputValues(body, name string) []string { return inputs(body, name, false) }

// checkedValues are the values of the checked checkboxes named name.
func checkedValues(body, name string) []string { return inputs(body, name, true) }

func inputs(body, name string, checked bool) []string {
	var out []string
	for _, tag := range inputTagRE.FindAllString(body, -1) {
		if !strings.Contains(tag, ` name="`+name+`"`) || checked && !strings.Contains(tag, " checked") {
			continue
		}
		v := ""
		if m := valueRE.FindStringSubmatch(tag); m != nil {
			v = html.UnescapeString(m[1])
		}
		out = append(out, v)
	}
	return out
}

// saveTableEdit saves billing.view max_age maxAge from revision rev as a
// draft and returns the new revision's path.
func saveTableEdit(t *testing.T, b *browser, rev, maxAge string) string {
	t.Helper()
	r := b.post("/policies/"+rev+"/edit", tableForm(t, b, rev, maxAge))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("save table edit: %d\n%s", r.Code, r.Body)
	}
	return r.Location
}

// TestTableEditKeepsTestsGreenAndDiffShowsOnlyIt is issue 16's first two
// items through the UI: billing.view max_age 900 → 600 in the table saves
// a draft whose Rego tests all pass, data.json changes in one line, and the
// diff names the change above the text.
func TestTableEditKeepsTestsGreenAndDiffShowsOnlyIt(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	if loc := saveTableEdit(t, b, "1", "600"); loc != "/policies/2" {
		t.Fatalf("saved to %s", loc)
	}
	r := b.post("/policies/2/test", nil)
	mustContain(t, r, " passed, 0 failed")

	r = b.get("/policies/diff?a=1&b=2")
	mustContain(t, r, `id="table-summary"`, "<li>billing.view: max_age 900 → 600</li>", "stepgate/data.json", "+1 −1")
	if strings.Count(r.Body, `<h3 class="diffname">`) != 1 {
		t.Errorf("the diff lists more than data.json:\n%s", r.Body)
	}
	del, add := strings.Index(r.Body, `<span class="del">`), strings.Index(r.Body, `<span class="add">`)
	if del < 0 || add < 0 || del > add {
		t.Errorf("the removed line is not shown before the added one (del at %d, add at %d)", del, add)
	}
	mustContain(t, r, `<span class="ln" title="old line">9</span><span class="ln" title="new line"></span><span class="sign">-</span>      &#34;max_age&#34;: 900`,
		`<span class="ln" title="old line"></span><span class="ln" title="new line">9</span><span class="sign">+</span>      &#34;max_age&#34;: 600`,
		`<span class="gap">⋯ 5 unchanged lines</span>`)
}

// TestFailingRegoTestShowsExpectedAndGot: a failing test says on the
// revision page what it expected and what it got.
func TestFailingRegoTestShowsExpectedAndGot(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	form := editForm(t, b, "1", func(name, c string) string {
		if name == "stepgate/policy_test.rego" {
			return strings.Replace(c, `"reasons": ["billing.view needs amr mfa within 900s; requirements met"],`,
				`"reasons": ["billing.view needs amr mfa within 800s; requirements met"],`, 1)
		}
		return c
	})
	if r := b.post("/policies/1/edit", form); r.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.Code, r.Body)
	}
	r := b.post("/policies/2/test", nil)
	mustContain(t, r, " 1 failed", "test_billing_view_fresh_mfa_allows", `<pre class="test-output" tabindex="0" aria-label="test output">`,
		"expected {&#34;decision&#34;: &#34;allow&#34;, &#34;reasons&#34;: [&#34;billing.view needs amr mfa within 800s; requirements met&#34;]}",
		"got {&#34;decision&#34;: &#34;allow&#34;, &#34;reasons&#34;: [&#34;billing.view needs amr mfa within 900s; requirements met&#34;]}")
}

// decisionRecord is an audited billing or profile decision by an MFA
// sign-in age seconds old, recorded with outcome.
func decisionRecord(id, action, outcome string, age int64, at time.Time) storage.AuditRecord {
	now := at.Unix()
	in := fmt.Sprintf(`{"subject":{"type":"user","id":"bob","claims":{"sub":"bob","auth_time":%d},"authn":{"methods":["pwd","mfa"],"mfa":true,"auth_time":%d,"age":%d}},"action":{"name":%q},"resource":{},"context":{},"now":%d,"client":{"id":"c"}}`,
		now-age, now-age, age, action, now)
	return storage.AuditRecord{ChainID: "test", Kind: storage.KindDecision, DecisionID: id, Action: action, Subject: "bob",
		Outcome: outcome, Time: at, Input: []byte(in)}
}

// TestImpactComparesActiveRevisionAndDraft: the impact page replays each
// decision under the active revision and the draft; a decision the active
// revision already decides differently from its record is not the draft's
// change. Filters and full decision ids work.
func TestImpactComparesActiveRevisionAndDraft(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	now := e.clock.Now()
	changed := "0192f6c1-7a3e-7c41-9b7a-1f2e3d4c5b6a"
	recs := []storage.AuditRecord{
		// 700 s old: allowed under 900 s, a step-up under 600 s.
		decisionRecord(changed, "billing.view", "allow", 700, now),
		// Recorded as allowed under an older policy; revision 1 and the
		// draft both step up (profile.update: 300 s).
		decisionRecord("0192f6c1-7a3e-7c41-9b7a-ffffffffffff", "profile.update", "allow", 400, now),
		// Unchanged everywhere.
		decisionRecord("0192f6c1-7a3e-7c41-9b7a-000000000001", "billing.view", "allow", 100, now),
	}
	if err := e.store.AppendAudit(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	saveTableEdit(t, b, "1", "600")

	r := b.get("/policies/2/impact")
	mustContain(t, r, "<strong>1 would change</strong>", "Active #1 now", "With #2", "Recorded",
		`<code class="id">`+changed+`</code>`, `href="/audit/decisions/`+changed+`"`,
		"1 of the replayed decisions the active revision already decides differently from the outcome recorded")
	if strings.Contains(r.Body, "ffffffffffff</code>") {
		t.Errorf("a decision the draft does not change is listed as its change")
	}
	r = b.get("/policies/2/impact?change=" + url.QueryEscape("allow→step_up") + "&action=billing.view")
	mustContain(t, r, "billing.view allow→step_up (1 of 1)", changed)
	r = b.get("/policies/2/impact?action=profile.update")
	mustContain(t, r, "No change matches the filter.")
	mustContain(t, b.get("/policies/2/activate"), `id="activate-impact-counts"`, "Active #1 now", "<li>billing.view: max_age 900 → 600</li>")
}

// TestRollbackPageNamesTargetWithDiffAndImpact: the rollback page names
// the revision that becomes active, shows the change from the active one
// and its impact, and refuses a rollback to another target than shown.
func TestRollbackPageNamesTargetWithDiffAndImpact(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	if err := e.store.AppendAudit(context.Background(), []storage.AuditRecord{
		decisionRecord("0192f6c1-7a3e-7c41-9b7a-1f2e3d4c5b6a", "billing.view", "step_up", 700, e.clock.Now())}); err != nil {
		t.Fatal(err)
	}
	saveTableEdit(t, b, "1", "600")
	b.get("/policies/2/activate")
	if r := b.post("/policies/2/activate", url.Values{"reason": {"SEC-7"}, "confirm": {"yes"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("activate: %d\n%s", r.Code, r.Body)
	}
	r := b.get("/policies/rollback")
	mustContain(t, r, "<h1>Roll back to revision #1</h1>", "Rolling back makes <strong>revision #1</strong> the active policy again, replacing revision <a href=\"/policies/2\">#2</a>",
		"<li>billing.view: max_age 600 → 900</li>", `name="target" value="1"`, `id="rollback-impact-counts"`, "Active #2 now", "With #1")

	for _, target := range []string{"2", ""} {
		r = b.post("/policies/rollback", url.Values{"reason": {"oops"}, "confirm": {"yes"}, "target": {target}})
		if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "review it again") {
			t.Fatalf("rollback with target %q, not the one shown: %d\n%s", target, r.Code, r.Body)
		}
	}
	r = b.post("/policies/rollback", url.Values{"reason": {"oops"}, "confirm": {"yes"}, "target": {"1"}})
	if r.Code != http.StatusSeeOther || r.Location != "/policies/1" {
		t.Fatalf("rollback: %d %s\n%s", r.Code, r.Location, r.Body)
	}
	if rev, _ := e.store.ActiveRevision(context.Background()); rev.ID != 1 {
		t.Fatalf("active revision %d after rollback, want 1", rev.ID)
	}
}

// brokenBundle is the default policy without tests whose entrypoint fails
// on every evaluation (two complete rules with different values).
func brokenBundle(t *testing.T) policy.Files {
	t.Helper()
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	for n := range files {
		if policy.IsTestModule(n) {
			delete(files, n)
		}
	}
	files["stepgate/broken.rego"] = []byte("package stepgate\n\ndecision := {\"decision\": \"allow\", \"reasons\": [\"conflict\"]} if input\n")
	return files
}

// TestRollbackCannotBeLockedByTheActivePolicy is issue 15 item 9: a policy
// without tests that errors on everything is accepted with a warning and
// activated; it then refuses the admin gate's own actions, yet the UI rolls
// it back: at once with a fresh sign-in, or after signing in again, and the
// trail records the rollback as break-glass.
func TestRollbackCannotBeLockedByTheActivePolicy(t *testing.T) {
	var api decisionAPI
	e := newEnv(t, withDecisionAPI(t, &api))
	b := e.browser()
	b.signIn()
	ctx := context.Background()
	rev, v, err := e.policies.Push(ctx, "cli:ops", brokenBundle(t), "errors everywhere", false)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if len(v.Warnings) != 1 || v.Warnings[0] != admin.NoTestsWarning {
		t.Errorf("push of a bundle without tests: warnings %q", v.Warnings)
	}
	page := fmt.Sprintf("/policies/%d", rev.ID)
	mustContain(t, b.get(page), `id="bundle-warning"`, "this bundle has no Rego tests")
	mustContain(t, b.get(page+"/activate"), "Warning: this bundle has no Rego tests")
	if r := b.post(page+"/activate", url.Values{"reason": {"deploy"}, "confirm": {"yes"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("activate the broken policy: %d\n%s", r.Code, r.Body)
	}

	// The active policy now fails on the admin gate's own action: a normal
	// activation through the UI is refused.
	b.get("/policies/1/activate")
	if r := b.post("/policies/1/activate", url.Values{"reason": {"undo"}, "confirm": {"yes"}}); r.Code == http.StatusSeeOther {
		t.Fatalf("activation under a failing policy succeeded: %s", r.Location)
	}

	// Twenty minutes later the sign-in is stale: the rollback asks for a
	// fresh sign-in (the failing policy is not consulted for that) …
	e.clock.Advance(20 * time.Minute)
	mustContain(t, b.get("/policies/rollback"), "<h1>Roll back to revision #1</h1>", fmt.Sprintf("replacing revision <a href=\"/policies/%d\">#%d</a>", rev.ID, rev.ID))
	r := b.post("/policies/rollback", url.Values{"reason": {"policy errors everywhere"}, "confirm": {"yes"}, "target": {"1"}})
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/auth/reauth?") || !strings.Contains(r.Location, "fresh_login=1") {
		t.Fatalf("stale rollback: %d → %q", r.Code, r.Location)
	}
	b.get(r.Location)
	ret, _ := url.Parse(r.Location)
	if r := b.post("/auth/reauth", url.Values{"password": {testPassword}, "return_to": {ret.Query().Get("return_to")}}); r.Code != http.StatusSeeOther {
		t.Fatalf("re-authenticate: %d\n%s", r.Code, r.Body)
	}
	// … and then rolls back on the built-in rule.
	b.get("/policies/rollback")
	r = b.post("/policies/rollback", url.Values{"reason": {"policy errors everywhere"}, "confirm": {"yes"}, "target": {"1"}})
	if r.Code != http.StatusSeeOther || r.Location != "/policies/1" {
		t.Fatalf("rollback after re-authentication: %d %s\n%s", r.Code, r.Location, r.Body)
	}
	if active, _ := e.store.ActiveRevision(ctx); active.ID != 1 {
		t.Fatalf("active revision %d, want 1", active.ID)
	}
	mustContain(t, b.get("/policies/1"), "built-in rule allowed it")
	page2, err := e.store.SearchAudit(ctx, storage.AuditQuery{Kind: storage.KindAdmin, Action: "policy.rollback", Limit: 10})
	if err != nil || len(page2.Records) != 1 {
		t.Fatalf("rollback records: %v %d", err, len(page2.Records))
	}
	for _, want := range []string{`"gate":"break-glass"`, `"active_policy":`, `"reason":"policy errors everywhere"`, `"revision":1`} {
		if !strings.Contains(string(page2.Records[0].Detail), want) {
			t.Errorf("rollback record %s lacks %s", page2.Records[0].Detail, want)
		}
	}
}
