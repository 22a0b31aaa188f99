package adminhttp_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
)

func TestAuditExportStreamsTheFilter(t *testing.T) {
	e := newEnv(t)
	auditFixture(e)
	b := e.browser()
	b.signIn()
	tests := []struct {
		name, query string
		want        []string
	}{
		{"payments without MFA", "action=billing.pay&mfa=no&range=7d", []string{"dec-1", "dec-5"}},
		{"one client", "client=web-app", []string{"dec-4", "dec-5", "dec-3"}},
		{"nothing", "subject=nobody", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name+" csv", func(t *testing.T) {
			r := b.get("/audit/export?format=csv&" + tc.query)
			if r.Code != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
				!strings.Contains(r.Header.Get("Content-Disposition"), `attachment; filename="stepgate-audit-`) {
				t.Fatalf("status %d, headers %v", r.Code, r.Header)
			}
			rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if rows[0][0] != "time" || rows[0][2] != "decision_id" || rows[0][12] != "mfa" {
				t.Fatalf("CSV header %v", rows[0])
			}
			var ids []string
			for _, row := range rows[1:] {
				ids = append(ids, row[2])
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("CSV rows %v, want %v", ids, tc.want)
			}
		})
		t.Run(tc.name+" ndjson", func(t *testing.T) {
			r := b.get("/audit/export?format=ndjson&" + tc.query)
			if r.Code != http.StatusOK || r.Header.Get("Content-Type") != "application/x-ndjson" {
				t.Fatalf("status %d, type %q", r.Code, r.Header.Get("Content-Type"))
			}
			var ids []string
			sc := bufio.NewScanner(strings.NewReader(r.Body))
			for sc.Scan() {
				var rec storage.AuditRecord
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				if rec.Hash == "" || rec.Seq == 0 {
					t.Fatalf("exported record lacks its chain fields: %+v", rec)
				}
				ids = append(ids, rec.DecisionID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("NDJSON records %v, want %v", ids, tc.want)
			}
		})
	}
	if r := b.get("/audit/export?format=xlsx"); r.Code != http.StatusBadRequest {
		t.Fatalf("unknown format: %d, want 400", r.Code)
	}
}

func TestAuditExportDefusesFormulas(t *testing.T) {
	e := newEnv(t)
	e.seed(seedRec{id: "f-1", subject: "=HYPERLINK(\"http://evil\")", action: "billing.view", outcome: "allow"})
	b := e.browser()
	b.signIn()
	r := b.get("/audit/export?format=csv&decision=f-1")
	rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %v, err %v", rows, err)
	}
	if got := rows[1][4]; !strings.HasPrefix(got, "'=") {
		t.Fatalf("subject exported as %q, want a leading quote", got)
	}
}

func TestDecisionDetail(t *testing.T) {
	e := newEnv(t)
	auditFixture(e)
	b := e.browser()
	b.signIn()
	r := b.get("/audit/decisions/dec-1")
	if r.Code != http.StatusOK {
		t.Fatalf("status %d", r.Code)
	}
	mustContain(t, r, "billing.pay decided step_up", // reasons
		`<td id="mfa"><strong class="error">no</strong> · methods: pwd`, // MFA facts
		`href="/policies/1"`,                           // the policy revision's source
		"Policy input (redacted)", "&#34;methods&#34;", // the stored input
		"<td>stepup</td><td>verified</td>", // the step-up follow-up
		`href="/clients/billing-svc"`)
	mustContain(t, b.get("/audit/decisions/dec-2"), `<td id="mfa">yes · methods: pwd, mfa`, "No step-up or CIBA follow-up")
	r = b.get("/audit/decisions/nope")
	if r.Code != http.StatusNotFound {
		t.Fatalf("unknown decision: %d, want 404", r.Code)
	}
	mustContain(t, r, "No audit record has decision id nope")
}

func TestChainVerificationPage(t *testing.T) {
	e := newEnv(t)
	auditFixture(e)
	b := e.browser()
	b.signIn()
	mustContain(t, b.get("/audit/verify"), "Verify now")
	r := b.post("/audit/verify", nil)
	mustContain(t, r, "Intact", "records in 1 chain(s) verified")

	db, err := gorm.Open(sqlite.Open(e.dbPath), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`UPDATE audit_records SET subject = 'mallory' WHERE decision_id = 'dec-5'`).Error; err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
	r = b.post("/audit/verify", nil)
	mustContain(t, r, "Broken", "First broken record", `href="/audit/decisions/dec-5"`)
	if auditor := e.auditor(); auditor.post("/audit/verify", nil).Code != http.StatusOK {
		t.Fatal("auditors may verify the chain (it changes nothing)")
	}
}

func TestAdminActivityLog(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	mustContain(t, b.get("/audit/admin"), "policy.push", "policy.activate", "setup")

	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	files["stepgate/extra.rego"] = []byte("package stepgate\n\nextra_rule := true\n")
	draft, _, err := e.policies.Push(context.Background(), "alice-admin", files, "add extra rule", false)
	if err != nil {
		t.Fatal(err)
	}
	b.get("/policies/2/activate")
	if r := b.post("/policies/2/activate", url.Values{"reason": {"ticket SEC-7"}, "confirm": {"yes"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("activate: %d\n%s", r.Code, r.Body)
	}
	r := b.get("/audit/admin")
	mustContain(t, r, "ticket SEC-7", "revision 2", "add extra rule", "alice-admin")
	first, push := strings.Index(r.Body, "ticket SEC-7"), strings.Index(r.Body, "add extra rule")
	if first > push {
		t.Fatal("admin activity is not newest first")
	}
	if draft.ID != 2 {
		t.Fatalf("draft id %d", draft.ID)
	}
	mustContain(t, e.auditor().get("/audit/admin"), "ticket SEC-7")

	// A refusal shows why, under the verified actor and its label.
	ctx := admin.WithActorLabel(context.Background(), "alice@example.com")
	if err := e.policies.Recorder().Refused(ctx, admin.SSOActor("https://idp.example", "sub-42"), "policy.activate",
		"2 of 46 tests failed", map[string]any{"revision": 3}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.get("/audit/admin"), "alice@example.com", "https://idp.example|sub-42", "<strong>refused</strong>",
		`<span class="error">2 of 46 tests failed</span>`, "revision 3")
}
