package adminhttp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

// editForm turns the edit page's fields into a form, replacing file
// contents through edit.
func editForm(t *testing.T, b *browser, rev string, edit func(name, content string) string) url.Values {
	t.Helper()
	r := b.get("/policies/" + rev + "/edit")
	if r.Code != http.StatusOK {
		t.Fatalf("edit page: %d", r.Code)
	}
	form := url.Values{"message": {"test edit"}}
	for i := 0; ; i++ {
		name := fieldValue(r.Body, "fn_"+itoa(i))
		if name == "" {
			break
		}
		form.Set("fn_"+itoa(i), name)
		form.Set("f_"+itoa(i), edit(name, textarea(r.Body, "f_"+itoa(i))))
	}
	return form
}

func TestEditShowsCompileErrorInlineAndKeepsInput(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	broken := editForm(t, b, "1", func(name, c string) string {
		if name == "stepgate/policy.rego" {
			return strings.Replace(c, "package stepgate", "package stepgate\n\nbroken if {", 1)
		}
		return c
	})
	r := b.post("/policies/1/edit", broken)
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("broken edit: %d", r.Code)
	}
	mustContain(t, r, "Line ", `class="line bad"`, "broken if {")
	list, _ := e.policies.List(context.Background())
	if len(list) != 1 {
		t.Fatalf("a broken bundle was stored: %d revisions", len(list))
	}
	ok := editForm(t, b, "1", func(_, c string) string { return c })
	ok.Set("table", "1")
	ok["a_name"] = []string{"billing.view", "admin.export"}
	ok["a_mfa"] = []string{"0", "1"}
	ok["a_max_age"] = []string{"900", "60"}
	r = b.post("/policies/1/edit", ok)
	if r.Code != http.StatusSeeOther || r.Location != "/policies/2" {
		t.Fatalf("valid edit: %d → %q\n%s", r.Code, r.Location, r.Body)
	}
	mustContain(t, b.get("/policies/2"), "admin.export", "Saved draft revision 2")
}

func TestEditTableValidationKeepsInput(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	form := editForm(t, b, "1", func(_, c string) string { return c })
	form.Set("table", "1")
	form["a_name"] = []string{"billing.view"}
	form["a_max_age"] = []string{"soon"}
	r := b.post("/policies/1/edit", form)
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", r.Code)
	}
	mustContain(t, r, "a whole number of seconds", `value="soon"`)
	// The error is tied to its field for screen readers.
	mustContain(t, r, `value="soon" inputmode="numeric" aria-label="max age in seconds" aria-invalid="true" aria-describedby="a_max_age-error-0"`,
		`<p class="field-error" id="a_max_age-error-0">`)
}

func TestActivateNeedsReasonAndIsAudited(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	b.post("/policies/1/edit", editForm(t, b, "1", func(_, c string) string { return c }))
	r := b.get("/policies/2/activate")
	mustContain(t, r, "Impact on recent decisions", "Rego tests")
	if r := b.post("/policies/2/activate", url.Values{"confirm": {"yes"}}); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("activate without reason: %d", r.Code)
	}
	r = b.post("/policies/2/activate", url.Values{"reason": {"ticket SEC-1"}, "confirm": {"yes"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("activate: %d %s", r.Code, r.Body)
	}
	if rev, _ := e.store.ActiveRevision(context.Background()); rev.ID != 2 {
		t.Fatalf("active revision %d, want 2", rev.ID)
	}
	mustContain(t, b.get("/audit/admin"), "policy.activate", "ticket SEC-1", "revision 2")
	r = b.post("/policies/rollback", url.Values{"reason": {"oops"}, "confirm": {"yes"}, "target": {"1"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("rollback: %d %s", r.Code, r.Body)
	}
	if rev, _ := e.store.ActiveRevision(context.Background()); rev.ID != 1 {
		t.Fatalf("after rollback active %d, want 1", rev.ID)
	}
}

func TestPlaygroundDiffImpact(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	r := b.get("/policies/1/playground")
	in := textarea(r.Body, "input")
	r = b.post("/policies/1/playground", url.Values{"input": {in}})
	mustContain(t, r, "Decision:", "step_up", "data.stepgate.decision")
	r = b.post("/policies/1/playground", url.Values{"input": {"{not json"}})
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "{not json") {
		t.Fatalf("bad input: %d, input not kept", r.Code)
	}
	// An audited decision that a draft changes shows up in impact analysis.
	rec := storage.AuditRecord{ChainID: "test", Kind: storage.KindDecision, DecisionID: "d-1", Action: "profile.update",
		Subject: "bob", Outcome: "allow", Time: e.clock.Now(),
		Input: []byte(`{"subject":{"type":"user","id":"bob","claims":{"sub":"bob","auth_time":` + itoa(int(e.clock.Now().Unix()-100)) + `},"authn":{"methods":[],"mfa":false,"auth_time":` + itoa(int(e.clock.Now().Unix()-100)) + `,"age":100}},"action":{"name":"profile.update"},"resource":{},"context":{},"now":` + itoa(int(e.clock.Now().Unix())) + `,"client":{"id":"c"}}`)}
	if err := e.store.AppendAudit(context.Background(), []storage.AuditRecord{rec}); err != nil {
		t.Fatal(err)
	}
	form := editForm(t, b, "1", func(_, c string) string { return c })
	form.Set("table", "1")
	form["a_name"] = []string{"profile.update"}
	form["a_mfa"] = []string{"0"}
	form["a_max_age"] = []string{"300"}
	if r := b.post("/policies/1/edit", form); r.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.Code)
	}
	mustContain(t, b.get("/policies/2/impact"), "1 would change", "profile.update", "o-step_up")
	mustContain(t, b.get("/policies/diff?a=1&b=2"), "stepgate/data.json", `class="del"`)
}

// TestEditTableKeepsFreshLogin: the requirements table shows and saves the
// fresh-login column, so a re-authentication action (profile.update in the
// default bundle) survives an edit of another row.
func TestEditTableKeepsFreshLogin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	r := b.get("/policies/1/edit")
	mustContain(t, r, "Fresh login", `name="a_fresh"`)
	form := editForm(t, b, "1", func(_, c string) string { return c })
	form.Set("table", "1")
	form["a_name"] = []string{"billing.view", "profile.update"}
	form["a_mfa"] = []string{"0"}
	form["a_max_age"] = []string{"600", "300"}
	form["a_fresh"] = []string{"1"}
	if r := b.post("/policies/1/edit", form); r.Code != http.StatusSeeOther || r.Location != "/policies/2" {
		t.Fatalf("edit: %d → %q\n%s", r.Code, r.Location, r.Body)
	}
	rev, err := e.store.GetRevision(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	files, err := policy.ReadTarball(rev.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	rules, _, err := admin.ReadActions(files)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, rule := range rules {
		got[rule.Name] = rule.FreshLogin
	}
	if len(got) != 2 || !got["profile.update"] || got["billing.view"] {
		t.Fatalf("saved fresh_login per action %v, want only profile.update", got)
	}
}
