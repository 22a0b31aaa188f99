package adminhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// TestEditorAssetUnderCSP: the edit and playground pages load the editor
// from stepgate itself, which the CSP allows, as JavaScript, and the
// textareas it enhances stay in the form for browsers without it.
func TestEditorAssetUnderCSP(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	for _, p := range []string{"/policies/1/edit", "/policies/1/playground"} {
		r := b.get(p)
		mustContain(t, r, `<script src="/static/editor.js" defer></script>`, `<textarea class="code"`)
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-") {
			t.Errorf("%s: CSP %q does not allow exactly the site's own scripts", p, csp)
		}
	}
	mustContain(t, b.get("/policies/1/edit"), `data-editor="rego"`, `name="f_0"`, `aria-describedby="editor-keys"`, "press Escape, then Tab")
	mustContain(t, b.get("/policies/1/playground"), `data-editor="json"`)
	// The read-only view numbers its lines without JavaScript.
	// Each listing is a keyboard-reachable scroll area with a name.
	mustContain(t, b.get("/policies/1"), `<pre class="src numbered" tabindex="0" aria-label="source of `, `"><span class="line"><span class="ln">1</span>`,
		`<span class="ln">2</span>`)

	r := b.get("/static/editor.js")
	if r.Code != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("editor.js: %d %q", r.Code, r.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(r.Body, "/* stepgate policy editor, built by webui/editor/build.sh") || len(r.Body) < 100_000 {
		t.Fatalf("editor.js is not the built editor (%d bytes): %.120q", len(r.Body), r.Body)
	}
	// 'unsafe-eval' is not in the CSP: the bundle must not need it.
	for _, bad := range []string{"eval(", "new Function("} {
		if strings.Contains(r.Body, bad) {
			t.Errorf("editor.js calls %s, which the CSP forbids", bad)
		}
	}
}

// tryForm is the edit form of revision 1 as the page has it, table
// included, with op as the try button pressed.
func tryForm(t *testing.T, b *browser, op string) url.Values {
	t.Helper()
	form := editForm(t, b, "1", func(_, c string) string { return c })
	form.Set("try", op)
	return form
}

func TestTryUnsavedEdit(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	now := e.clock.Now().Unix()
	// An audited billing.view by a password-only user: step_up, as the
	// default policy (MFA within 15 minutes) decides it.
	authn := `{"methods":["pwd"],"mfa":false,"auth_time":` + itoa(int(now-60)) + `,"age":60}`
	rec := storage.AuditRecord{ChainID: "test", Kind: storage.KindDecision, DecisionID: "d-try", Action: "billing.view",
		Subject: "bob", Outcome: "step_up", Time: e.clock.Now(), PolicyRevision: 1,
		Input: []byte(`{"subject":{"type":"user","id":"bob","claims":{"sub":"bob","amr":["pwd"],"auth_time":` + itoa(int(now-60)) +
			`},"authn":` + authn + `},"action":{"name":"billing.view"},"resource":{},"context":{},"now":` + itoa(int(now)) + `,"client":{"id":"c"}}`)}
	if err := e.store.AppendAudit(context.Background(), []storage.AuditRecord{rec}); err != nil {
		t.Fatal(err)
	}
	request := `{"claims":{"sub":"alice","amr":["pwd"],"auth_time":` + itoa(int(now-60)) + `},"action":"billing.view"}`
	noMFA := func(f url.Values) {
		f.Set("table", "1")
		f["a_name"] = []string{"billing.view"}
		f["a_max_age"] = []string{"900"}
	}
	tests := []struct {
		name   string
		op     string
		edit   func(url.Values)
		status int
		want   []string
	}{
		{"check unchanged", "check", nil, http.StatusOK, []string{`id="try-tests"`, "Compiles. Rego tests:", "<strong >0 failed</strong>", "nothing was saved"}},
		{"check broken", "check", func(f url.Values) {
			for k, v := range f {
				if strings.HasPrefix(k, "fn_") && v[0] == "stepgate/policy.rego" {
					i := strings.TrimPrefix(k, "fn_")
					f.Set("f_"+i, strings.Replace(f.Get("f_"+i), "package stepgate", "package stepgate\n\nbroken if {", 1))
				}
			}
		}, http.StatusUnprocessableEntity, []string{"Does not compile", `data-line="`, "broken if {"}},
		{"decide a decision API request", "decide", func(f url.Values) { f.Set("try_input", request) }, http.StatusOK,
			[]string{`id="result"`, `o-step_up`, "data.stepgate.decision"}},
		{"decide it without MFA in the table", "decide", func(f url.Values) { noMFA(f); f.Set("try_input", request) }, http.StatusOK,
			[]string{`id="result"`, `class="badge o-allow"`}},
		{"decide bad input", "decide", func(f url.Values) { f.Set("try_input", `{"action":"billing.view"}`) }, http.StatusOK,
			[]string{"send exactly one of token and claims", `{&#34;action&#34;:&#34;billing.view&#34;}`}},
		{"impact unchanged", "impact", nil, http.StatusOK, []string{`id="try-impact"`, "0 would change"}},
		{"impact without MFA", "impact", noMFA, http.StatusOK, []string{`id="try-impact"`, "1 would change", "billing.view", "o-allow"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := tryForm(t, b, tc.op)
			if tc.edit != nil {
				tc.edit(form)
			}
			r := b.post("/policies/1/try", form)
			if r.Code != tc.status {
				t.Fatalf("status %d, want %d\n%s", r.Code, tc.status, r.Body)
			}
			mustContain(t, r, append(tc.want, "Edit revision #1", `name="try_input"`)...)
			if list, _ := e.policies.List(context.Background()); len(list) != 1 {
				t.Fatalf("trying stored a revision: %d revisions", len(list))
			}
		})
	}
	if r := b.post("/policies/1/try", tryForm(t, b, "activate")); r.Code != http.StatusBadRequest {
		t.Errorf("unknown try op: %d", r.Code)
	}
	a := e.auditor()
	if r := a.post("/policies/1/try", url.Values{"try": {"check"}}); r.Code != http.StatusForbidden {
		t.Errorf("auditor trying an edit: %d, want 403", r.Code)
	}
}

func TestDiscardDraft(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	if r := b.post("/policies/1/edit", editForm(t, b, "1", func(_, c string) string { return c })); r.Code != http.StatusSeeOther {
		t.Fatalf("save draft: %d", r.Code)
	}
	mustContain(t, b.get("/policies/2"), `action="/policies/2/discard"`)
	if r := b.get("/policies/1"); strings.Contains(r.Body, "/discard") {
		t.Error("the active revision offers to be discarded")
	}
	before := e.adminRecordCount()

	r := b.post("/policies/1/discard", url.Values{"reason": {"oops"}})
	if r.Code != http.StatusConflict {
		t.Fatalf("discard the active revision: %d", r.Code)
	}
	if r := b.post("/policies/9/discard", nil); r.Code != http.StatusNotFound {
		t.Errorf("discard a missing revision: %d", r.Code)
	}
	r = b.post("/policies/2/discard", url.Values{"reason": {"tried it, not needed"}})
	if r.Code != http.StatusSeeOther || r.Location != "/policies" {
		t.Fatalf("discard draft: %d → %q\n%s", r.Code, r.Location, r.Body)
	}
	mustContain(t, b.get("/policies"), "Discarded draft revision 2")
	if r := b.get("/policies/2"); r.Code != http.StatusNotFound {
		t.Errorf("discarded draft still shown: %d", r.Code)
	}
	if _, err := e.store.GetRevision(context.Background(), 1); err != nil {
		t.Fatalf("the active revision: %v", err)
	}

	recs := e.adminRecordsSince(before)
	var got []string
	for _, rec := range recs {
		got = append(got, rec.Action+" "+rec.Outcome)
	}
	want := []string{"policy.discard refused", "policy.discard refused", "policy.discard ok"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("admin records %v, want %v", got, want)
	}
	last := recs[len(recs)-1]
	if last.detail["revision"] != float64(2) || last.detail["reason"] != "tried it, not needed" || last.detail["hash"] == "" {
		t.Errorf("discard record detail %v", last.detail)
	}
	mustContain(t, b.get("/audit/admin"), "policy.discard")
}

func TestPlaygroundTakesDecisionAPIRequests(t *testing.T) {
	e, api, b := clientEnv(t)
	key := createClient(t, b)
	req := claimsRequest("alice", "billing.view", []string{"pwd"}, e.clock.Now().Add(-time.Minute), map[string]any{"channel": "web"})
	req["resource"] = map[string]any{"type": "invoice", "id": "inv_1"}
	body, _ := json.Marshal(req)

	// The decision API and the playground decide the same request alike.
	_, answer := api.decide(key, req)
	r := b.do(http.MethodPost, "/api/policies/1/playground", bytes.NewReader(body),
		map[string]string{"Content-Type": "application/json", "X-CSRF-Token": b.csrf})
	if r.Code != http.StatusOK {
		t.Fatalf("playground API: %d %s", r.Code, r.Body)
	}
	var res struct {
		Decision string   `json:"decision"`
		Reasons  []string `json:"reasons"`
		Input    struct {
			Subject struct {
				ID    string         `json:"id"`
				Authn map[string]any `json:"authn"`
			} `json:"subject"`
			Action struct{ Name string } `json:"action"`
		} `json:"input"`
	}
	if err := json.Unmarshal([]byte(r.Body), &res); err != nil {
		t.Fatal(err)
	}
	// The decision API adds why it cannot offer a redirect to an IdP.
	if res.Decision != answer["decision"] || len(res.Reasons) == 0 || !strings.HasPrefix(joinAny(answer["reasons"]), strings.Join(res.Reasons, "|")) {
		t.Errorf("playground %s %v, decision API %v %v", res.Decision, res.Reasons, answer["decision"], answer["reasons"])
	}
	if res.Decision != "step_up" || res.Input.Subject.ID != "alice" || res.Input.Action.Name != "billing.view" || res.Input.Subject.Authn["mfa"] != false {
		t.Errorf("playground result %+v", res)
	}

	b.get("/policies/1/playground")
	r = b.post("/playground", url.Values{"rev": {"1"}, "input": {string(body)}})
	mustContain(t, r, "Decision:", "o-step_up", "as the policy input it became", "&#34;name&#34;: &#34;billing.view&#34;")
	for _, tc := range []struct{ name, input, want string }{
		{"token", `{"token":"eyJ","action":"billing.view"}`, "does not verify tokens"},
		{"misspelt field", `{"claims":{"sub":"a"},"acton":"billing.view"}`, "acton"},
		{"no subject", `{"claims":{},"action":"billing.view"}`, "claims.sub must be a non-empty string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.post("/playground", url.Values{"rev": {"1"}, "input": {tc.input}})
			if r.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", r.Code)
			}
			mustContain(t, r, tc.want)
		})
	}
}

func joinAny(v any) string {
	xs, _ := v.([]any)
	var s []string
	for _, x := range xs {
		s = append(s, x.(string))
	}
	return strings.Join(s, "|")
}

func TestOpenDecisionInPlayground(t *testing.T) {
	e, api, b := clientEnv(t)
	key := createClient(t, b)
	id, outcome := api.mustDecide(key, claimsRequest("carol", "billing.view", []string{"pwd", "mfa"}, e.clock.Now().Add(-time.Minute), nil))
	if outcome != "allow" {
		t.Fatalf("decision %s", outcome)
	}
	mustContain(t, b.get("/audit/decisions/"+id), `href="/playground?decision=`+id+`"`, "Open in playground")

	// A draft that drops billing.view's MFA.
	form := editForm(t, b, "1", func(_, c string) string { return c })
	form.Set("table", "1")
	form["a_name"] = []string{"billing.view"}
	if r := b.post("/policies/1/edit", form); r.Code != http.StatusSeeOther {
		t.Fatalf("save draft: %d", r.Code)
	}

	r := b.get("/playground?decision=" + id)
	mustContain(t, r, "Playground · revision #1", `<option value="1" selected>`, `<option value="2" >`,
		`name="decision" value="`+id+`"`, "&#34;carol&#34;", "with its original <code>now</code>")
	input := textarea(r.Body, "input")
	r = b.get("/playground?decision=" + id + "&rev=2")
	mustContain(t, r, "Playground · revision #2", `<option value="2" selected>`)

	// Later the recorded sign-in is old, but the recorded now still holds.
	e.clock.Advance(20 * time.Minute)
	r = b.post("/playground", url.Values{"rev": {"1"}, "input": {input}, "decision": {id}})
	mustContain(t, r, `class="badge o-allow"`, "Playground · revision #1")

	if r := b.get("/playground?decision=nope"); r.Code != http.StatusNotFound {
		t.Errorf("unknown decision: %d", r.Code)
	}
	if r := e.auditor().get("/playground?decision=" + id); r.Code != http.StatusOK {
		t.Errorf("auditor opening a decision in the playground: %d", r.Code)
	}
}
