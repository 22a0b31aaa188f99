package adminhttp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/admin/approval"
	"github.com/stepgate/stepgate/admin/users"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

func withCheapPasswords(cfg *adminhttp.Config) { cfg.PasswordCost = bcrypt.MinCost }

func withApproval(cfg *adminhttp.Config) {
	cfg.RequireApproval, cfg.ApprovalTTL = true, 2*time.Hour
}

// signInAs signs a local account in.
func (b *browser) signInAs(name, password string) {
	b.e.t.Helper()
	b.get("/login")
	r := b.post("/login", url.Values{"user": {name}, "password": {password}})
	if r.Code != http.StatusSeeOther {
		b.e.t.Fatalf("sign in %s: status %d: %s", name, r.Code, r.Body)
	}
	b.get("/")
}

// addUser adds an account through the People page as b.
func (b *browser) addUser(name, role, password string) response {
	b.get("/users")
	return b.post("/users", url.Values{"name": {name}, "role": {role}, "password": {password}, "password2": {password}})
}

// lastAdminRecord returns the newest admin record and its detail.
func (e *env) lastAdminRecord() (storage.AuditRecord, map[string]any) {
	e.t.Helper()
	page, err := e.store.SearchAudit(e.t.Context(), storage.AuditQuery{Kind: storage.KindAdmin, Limit: 1})
	if err != nil || len(page.Records) == 0 {
		e.t.Fatalf("last admin record: %v", err)
	}
	var d map[string]any
	_ = json.Unmarshal(page.Records[0].Detail, &d)
	return page.Records[0], d
}

func TestPeoplePage(t *testing.T) {
	e := newEnv(t, withCheapPasswords)
	root := e.browser()
	root.signIn()

	r := root.get("/users")
	mustContain(t, r, "<h1>People</h1>", "admin", "(bootstrap)", "Not configured")

	// Refusals keep the form and say what to fix; nothing is stored.
	for _, tc := range []struct{ name, role, pw, pw2, want string }{
		{"Alice", "admin", "alice-password-1", "alice-password-1", "lower-case letters"},
		{"alice", "admin", "short", "short", "at least 12 characters"},
		{"alice", "admin", "alice-password-1", "alice-password-2", "The two passwords differ"},
		{"alice", "owner", "alice-password-1", "alice-password-1", "admin or auditor"},
	} {
		r := root.post("/users", url.Values{"name": {tc.name}, "role": {tc.role}, "password": {tc.pw}, "password2": {tc.pw2}})
		if r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("%s/%s: status %d", tc.name, tc.pw, r.Code)
		}
		mustContain(t, r, tc.want)
	}
	if list, _ := e.store.ListAdminUsers(t.Context()); len(list) != 1 {
		t.Fatalf("refused adds stored accounts: %+v", list)
	}

	if r := root.addUser("alice", "admin", "alice-password-1"); r.Code != http.StatusSeeOther {
		t.Fatalf("add alice: %d %s", r.Code, r.Body)
	}
	if rec, d := e.lastAdminRecord(); rec.Action != users.ActionAdd || rec.Actor != "admin" || d["account"] != "alice" {
		t.Errorf("add record = %s by %s %v", rec.Action, rec.Actor, d)
	}
	if r := root.addUser("audrey", "auditor", "audrey-password-1"); r.Code != http.StatusSeeOther {
		t.Fatalf("add audrey: %d", r.Code)
	}

	// Alice signs in under her own name; her changes are hers.
	alice := e.browser()
	alice.signInAs("alice", "alice-password-1")
	mustContain(t, alice.get("/users"), "alice <span class=\"muted\">(you)</span>")
	if r := alice.post("/users/admin/disable", url.Values{"reason": {"shared account retired"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("alice disables admin: %d %s", r.Code, r.Body)
	}
	if rec, d := e.lastAdminRecord(); rec.Action != users.ActionDisable || rec.Actor != "alice" || d["account"] != "admin" {
		t.Errorf("disable record = %s by %s %v", rec.Action, rec.Actor, d)
	}
	// The disabled account's session has ended, and it cannot sign in.
	if r := root.get("/policies"); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Errorf("disabled admin's session still works: %d %s", r.Code, r.Location)
	}
	root.get("/login")
	if r := root.post("/login", url.Values{"user": {"admin"}, "password": {testPassword}}); r.Code != http.StatusUnauthorized {
		t.Errorf("disabled admin signs in: %d", r.Code)
	}

	// The last enabled admin cannot be disabled.
	r = alice.post("/users/alice/disable", url.Values{"reason": {"oops"}})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("disable the last admin: %d", r.Code)
	}
	mustContain(t, r, "last enabled admin")

	// An auditor sees the page but cannot change anything.
	audrey := e.browser()
	audrey.signInAs("audrey", "audrey-password-1")
	r = audrey.get("/users")
	mustContain(t, r, "alice", "audrey")
	if strings.Contains(r.Body, `action="/users"`) {
		t.Error("the auditor is offered the add form")
	}
	if r := audrey.post("/users/alice/password", url.Values{"password": {"taken-over-1234"}, "password2": {"taken-over-1234"}}); r.Code != http.StatusForbidden {
		t.Errorf("auditor sets a password: %d", r.Code)
	}

	// A new password ends the account's sessions; the new one works.
	if r := alice.post("/users/audrey/password", url.Values{"password": {"audrey-password-2"}, "password2": {"audrey-password-2"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("new password: %d %s", r.Code, r.Body)
	}
	if r := audrey.get("/users"); r.Code != http.StatusSeeOther {
		t.Errorf("audrey's session survived her new password: %d", r.Code)
	}
	audrey.signInAs("audrey", "audrey-password-2")
}

func TestFourEyesInTheUI(t *testing.T) {
	e := newEnv(t, withCheapPasswords, withApproval)
	ctx := t.Context()
	root := e.browser()
	root.signIn()
	for _, n := range []string{"alice", "bob"} {
		if r := root.addUser(n, "admin", n+"-password-12"); r.Code != http.StatusSeeOther {
			t.Fatalf("add %s: %d", n, r.Code)
		}
	}
	_, files, err := e.policies.Files(ctx, e.active.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := make(policy.Files, len(files)+1)
	for k, v := range files {
		next[k] = v
	}
	next["extra.rego"] = []byte("package extra\n")
	draft, _, err := e.policies.Push(ctx, "setup", next, "second", false)
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(draft.ID, 10)

	alice, bob := e.browser(), e.browser()
	alice.signInAs("alice", "alice-password-12")
	bob.signInAs("bob", "bob-password-12")

	mustContain(t, alice.get("/policies/"+id+"/activate"), "Request activation of #"+id)
	r := alice.post("/policies/"+id+"/activate", url.Values{"reason": {"ship the extra module"}, "confirm": {"yes"}})
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/approvals/") {
		t.Fatalf("request: %d %s %s", r.Code, r.Location, r.Body)
	}
	reqPath := r.Location
	if active, _, _ := e.store.ActiveRevisionID(ctx); active != e.active.ID {
		t.Fatal("the request activated the revision")
	}
	if rec, _ := e.lastAdminRecord(); rec.Action != approval.ActionRequest || rec.Actor != "alice" {
		t.Errorf("request record = %s by %s", rec.Action, rec.Actor)
	}
	mustContain(t, alice.get("/policies"), "Approvals (1 waiting)")

	// An auditor reads the pending request and cannot decide it.
	aud := e.auditor()
	mustContain(t, aud.get("/approvals"), "ship the extra module")
	page0 := aud.get(reqPath)
	mustContain(t, page0, "Impact on recent decisions")
	if strings.Contains(page0.Body, `id="decide"`) {
		t.Error("the auditor is offered the decision form")
	}
	if r := aud.post(reqPath, url.Values{"decision": {"reject"}, "reason": {"no"}}); r.Code != http.StatusForbidden {
		t.Errorf("auditor decides a request: %d", r.Code)
	}

	// Alice cannot approve her own request.
	page := alice.get(reqPath)
	mustContain(t, page, "You asked for this", "Withdraw request")
	r = alice.post(reqPath, url.Values{"decision": {"approve"}, "reason": {"me"}, "confirm": {"yes"}, "active": {fieldValue(page.Body, "active")}})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("self approval: %d", r.Code)
	}
	mustContain(t, r, "a different admin must approve")

	// Bob sees the diff and the impact, then approves.
	page = bob.get(reqPath)
	mustContain(t, page, "ship the extra module", "Changes from active revision #"+strconv.FormatInt(e.active.ID, 10), "extra.rego",
		"Impact on recent decisions", "Approve and activate #"+id)
	if got := fieldValue(page.Body, "active"); got != strconv.FormatInt(e.active.ID, 10) {
		t.Fatalf("the form carries active revision %q", got)
	}
	if r := bob.post(reqPath, url.Values{"decision": {"approve"}, "reason": {"reviewed"}, "active": {fieldValue(page.Body, "active")}}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("approval without confirmation: %d", r.Code)
	}
	r = bob.post(reqPath, url.Values{"decision": {"approve"}, "reason": {"reviewed diff and impact"}, "confirm": {"yes"},
		"active": {fieldValue(page.Body, "active")}})
	if r.Code != http.StatusSeeOther || r.Location != "/policies/"+id {
		t.Fatalf("approve: %d %s %s", r.Code, r.Location, r.Body)
	}
	if active, _, _ := e.store.ActiveRevisionID(ctx); active != draft.ID {
		t.Fatalf("active = %d after approval, want %d", active, draft.ID)
	}

	// The revision page's timeline names both people and the reason.
	mustContain(t, bob.get("/policies/"+id), "When this revision was active", "alice", "bob", "ship the extra module", "<strong>now</strong>")
	mustContain(t, bob.get("/policies/"+strconv.FormatInt(e.active.ID, 10)), "default policy")

	// A decision made under the revision names its activator, approver
	// and reason, and so does the export.
	e.clock.Advance(time.Minute)
	if err := e.store.AppendAudit(ctx, []storage.AuditRecord{{ChainID: "test", Kind: storage.KindDecision, Time: e.clock.Now(),
		DecisionID: "d-after-approval", Subject: "carol", Action: "billing.pay", Outcome: "allow", PolicyRevision: draft.ID}}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, bob.get("/audit/decisions/d-after-approval"), `id="revision-activation"`, "by alice", "approved by bob",
		"ship the extra module")
	mustContain(t, bob.get("/audit/export?format=csv&subject=carol"), "revision_activated_by", "alice,bob,ship the extra module")
	// The search result row answers "under which revision, activated by whom and why".
	mustContain(t, bob.get("/audit?subject=carol"), "activated by alice, approved by bob: ship the extra module")

	// A rollback is a request too.
	r = bob.post("/policies/rollback", url.Values{"reason": {"undo"}, "confirm": {"yes"}, "target": {strconv.FormatInt(e.active.ID, 10)}})
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/approvals/") {
		t.Fatalf("rollback request: %d %s %s", r.Code, r.Location, r.Body)
	}
	if active, _, _ := e.store.ActiveRevisionID(ctx); active != draft.ID {
		t.Fatal("the rollback request rolled back")
	}
	// Rejected by alice, with a reason: nothing changes.
	r = alice.post(r.Location, url.Values{"decision": {"reject"}, "reason": {"keep it"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("reject: %d %s", r.Code, r.Body)
	}
	if rec, d := e.lastAdminRecord(); rec.Action != approval.ActionReject || rec.Actor != "alice" || d["reason"] != "keep it" {
		t.Errorf("reject record = %s by %s %v", rec.Action, rec.Actor, d)
	}
	if active, _, _ := e.store.ActiveRevisionID(ctx); active != draft.ID {
		t.Fatal("a rejected rollback rolled back")
	}
	mustContain(t, alice.get("/approvals"), "rejected", "keep it", "approved", "reviewed diff and impact")

	// An expired request cannot be approved.
	r = alice.post("/policies/rollback", url.Values{"reason": {"undo again"}, "confirm": {"yes"}, "target": {strconv.FormatInt(e.active.ID, 10)}})
	late := r.Location
	page = bob.get(late)
	e.clock.Advance(3 * time.Hour)
	bob.signInAs("bob", "bob-password-12")
	bob.get(late)
	r = bob.post(late, url.Values{"decision": {"approve"}, "reason": {"late"}, "confirm": {"yes"}, "active": {fieldValue(page.Body, "active")}})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("approve an expired request: %d %s", r.Code, r.Location)
	}
	mustContain(t, r, "has expired")
	if rec, _ := e.lastAdminRecord(); rec.Action != approval.ActionApprove || rec.Outcome != "refused" {
		t.Errorf("last record = %s %s, want the refused approval", rec.Action, rec.Outcome)
	}
	if active, _, _ := e.store.ActiveRevisionID(ctx); active != draft.ID {
		t.Fatal("an expired request went live")
	}
}
