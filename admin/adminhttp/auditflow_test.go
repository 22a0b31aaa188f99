package adminhttp_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// flowRec is one flow record to seed: kind, decision id, outcome, detail.
type flowRec struct {
	kind, decision, outcome string
	ago                     time.Duration
	detail                  *storage.FlowDetail
}

// seedFlows appends flow records as the flow sink writes them: the
// decision's links in the columns, the rest in a FlowDetail.
func (e *env) seedFlows(recs ...flowRec) {
	e.t.Helper()
	for _, f := range recs {
		rec := storage.AuditRecord{ChainID: "test", Time: e.clock.Now().Add(-f.ago), Kind: f.kind, DecisionID: f.decision,
			Subject: "alice", Action: "billing.pay", ClientID: "billing-svc", Outcome: f.outcome, Reasons: []string{f.kind + " " + f.outcome}}
		switch f.kind {
		case storage.KindCIBA:
			rec.CIBAID = "ciba-" + f.decision
		case storage.KindStepUp:
			rec.StepUpID = "tx-" + f.decision
		}
		if f.detail != nil {
			rec.Detail, _ = json.Marshal(f.detail)
		}
		if err := e.store.AppendAudit(context.Background(), []storage.AuditRecord{rec}); err != nil {
			e.t.Fatal(err)
		}
	}
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// pageText is r with the markup removed and entities decoded: what a
// reader sees, in one line per source line.
func pageText(r response) response {
	r.Body = html.UnescapeString(tagRE.ReplaceAllString(r.Body, ""))
	return r
}

var authTime = time.Date(2025, 11, 22, 10, 0, 0, 0, time.UTC)

// flowFixture: a CIBA request for dec-c started and approved with MFA, one
// for dec-d denied, a step-up for dec-s refused for a wrong nonce and then
// verified, and a session of alice ended by a logout.
func flowFixture(e *env) {
	mfa := &storage.FlowDetail{ACR: "urn:mfa", AMR: []string{"pwd", "otp", "mfa"}, AuthTime: authTime}
	e.seed(seedRec{id: "dec-c", subject: "alice", action: "billing.pay", outcome: "ciba", client: "billing-svc", ago: time.Hour, methods: []string{"pwd"}})
	e.seedFlows(
		flowRec{kind: storage.KindCIBA, decision: "dec-c", outcome: "started", ago: 59 * time.Minute},
		flowRec{kind: storage.KindCIBA, decision: "dec-c", outcome: "approved", ago: 58 * time.Minute, detail: mfa},
		flowRec{kind: storage.KindCIBA, decision: "dec-d", outcome: "started", ago: 50 * time.Minute},
		flowRec{kind: storage.KindCIBA, decision: "dec-d", outcome: "denied", ago: 49 * time.Minute, detail: &storage.FlowDetail{Code: "access_denied"}},
		flowRec{kind: storage.KindStepUp, decision: "dec-s", outcome: "nonce_mismatch", ago: 40 * time.Minute,
			detail: &storage.FlowDetail{Code: "nonce_mismatch", ACR: "urn:pwd", AMR: []string{"pwd"}, AuthTime: authTime}},
		flowRec{kind: storage.KindStepUp, decision: "dec-s", outcome: "verified", ago: 39 * time.Minute, detail: mfa},
		flowRec{kind: storage.KindSession, outcome: "logout", ago: 10 * time.Minute, detail: &storage.FlowDetail{SID: "idp-sid-1"}},
	)
}

func TestAuditSearchFlowRecords(t *testing.T) {
	e := newEnv(t)
	flowFixture(e)
	b := e.browser()
	b.signIn()
	tests := []struct {
		name, query string
		want        []string // decision ids linked, newest first
		shows       []string
	}{
		{"ciba", "kind=ciba", []string{"dec-d", "dec-d", "dec-c", "dec-c"},
			[]string{"code access_denied", "acr urn:mfa · amr pwd otp mfa · auth_time 2025-11-22T10:00:00Z"}},
		{"ciba approvals", "kind=ciba&outcome=approved", []string{"dec-c"}, []string{"approved ciba"}},
		{"step-up refusals by code", "kind=stepup&outcome=nonce_mismatch", []string{"dec-s"}, []string{"code nonce_mismatch"}},
		{"a flow outcome without a kind", "outcome=denied", []string{"dec-d"}, nil},
		{"session", "kind=session", nil, []string{"sid idp-sid-1", "logout session"}},
		{"decisions only", "kind=decision", []string{"dec-c"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.get("/audit?" + tc.query)
			if r.Code != http.StatusOK {
				t.Fatalf("?%s: status %d", tc.query, r.Code)
			}
			if got := decisionLinks(r.Body); !slices.Equal(got, tc.want) {
				t.Fatalf("?%s: %v, want %v", tc.query, got, tc.want)
			}
			mustContain(t, pageText(r), tc.shows...)
		})
	}
	form := b.get("/audit")
	for _, kind := range []string{"decision", "stepup", "ciba", "session", "admin"} {
		mustContain(t, form, `<option value="`+kind+`" >`)
	}
	mustContain(t, form, `<optgroup label="CIBA">`, `<option value="expired" >`)
	if r := b.get("/audit?kind=decision&outcome=approved"); r.Code != http.StatusBadRequest {
		t.Fatalf("a flow outcome for decisions: %d, want 400", r.Code)
	}
}

func TestDecisionPageShowsFlowDetail(t *testing.T) {
	e := newEnv(t)
	flowFixture(e)
	b := e.browser()
	b.signIn()
	r := b.get("/audit/decisions/dec-c")
	mustContain(t, r, "<td>ciba</td><td>started</td>", "<td>ciba</td><td>approved</td>", "ciba <code>ciba-dec-c</code>")
	mustContain(t, pageText(r), "acr urn:mfa · amr pwd otp mfa · auth_time 2025-11-22T10:00:00Z")
}

func TestAuditExportFlowRecords(t *testing.T) {
	e := newEnv(t)
	flowFixture(e)
	b := e.browser()
	b.signIn()
	t.Run("csv", func(t *testing.T) {
		r := b.get("/audit/export?format=csv&kind=ciba")
		rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if r.Code != http.StatusOK || err != nil || len(rows) != 5 {
			t.Fatalf("HTTP %d, %d rows, %v:\n%s", r.Code, len(rows), err, r.Body)
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		for _, h := range []string{"kind", "outcome", "amr", "ciba_id", "code", "session_id", "sid", "acr", "auth_time", "detail"} {
			if _, ok := col[h]; !ok {
				t.Fatalf("CSV header %v lacks %s", rows[0], h)
			}
		}
		byOutcome := map[string][]string{}
		for _, row := range rows[1:] {
			if row[col["kind"]] != storage.KindCIBA {
				t.Fatalf("row of kind %s in a ciba export", row[col["kind"]])
			}
			byOutcome[row[col["outcome"]]] = row
		}
		ok := byOutcome["approved"]
		if ok == nil || ok[col["ciba_id"]] != "ciba-dec-c" || ok[col["acr"]] != "urn:mfa" || ok[col["amr"]] != "pwd otp mfa" ||
			ok[col["auth_time"]] != "2025-11-22T10:00:00Z" || !strings.Contains(ok[col["detail"]], `"auth_time":"2025-11-22T10:00:00Z"`) {
			t.Fatalf("approved row %v lacks its proof", ok)
		}
		if d := byOutcome["denied"]; d == nil || d[col["code"]] != "access_denied" {
			t.Fatalf("denied row %v lacks its code", d)
		}
	})
	t.Run("ndjson", func(t *testing.T) {
		r := b.get("/audit/export?format=ndjson&kind=stepup")
		var got []storage.FlowDetail
		sc := bufio.NewScanner(strings.NewReader(r.Body))
		for sc.Scan() {
			var rec storage.AuditRecord
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			d, ok := storage.FlowDetailOf(rec)
			if rec.Kind != storage.KindStepUp || rec.DecisionID != "dec-s" || rec.Hash == "" || !ok {
				t.Fatalf("exported %+v, want a step-up record of dec-s with its detail and hash", rec)
			}
			got = append(got, d)
		}
		if len(got) != 2 || got[0].Code != "" || got[1].Code != "nonce_mismatch" || !got[1].AuthTime.Equal(authTime) {
			t.Fatalf("exported step-up details %+v, want verified then nonce_mismatch with auth_time", got)
		}
	})
}

// TestDashboardCountsFollowUps: the follow-ups come from the flow records
// of the window: step-ups verified against refused by code, every CIBA
// transition (zero ones too), and session events.
func TestDashboardCountsFollowUps(t *testing.T) {
	e := newEnv(t)
	flowFixture(e)
	e.seedFlows(flowRec{kind: storage.KindCIBA, decision: "dec-old", outcome: "approved", ago: 3 * day}) // outside 24h
	b := e.browser()
	b.signIn()
	r := b.get("/?window=24h")
	count := func(id string) string {
		t.Helper()
		m := regexp.MustCompile(`id="` + id + `"[^>]*>[a-z_]+: (\d+)<`).FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("dashboard has no %s count", id)
		}
		return m[1]
	}
	for id, want := range map[string]string{
		"fu-stepup-verified": "1", "fu-stepup-refused": "1",
		"fu-ciba-started": "2", "fu-ciba-approved": "1", "fu-ciba-denied": "1", "fu-ciba-expired": "0", "fu-ciba-error": "0",
		"fu-session-logout": "1", "fu-session-elevated": "0",
	} {
		if got := count(id); got != want {
			t.Errorf("%s = %s, want %s", id, got, want)
		}
	}
	mustContain(t, r, "nonce_mismatch: 1", `href="/audit?kind=ciba&outcome=denied&range=24h"`)
	if got := b.get("/?window=7d"); !regexp.MustCompile(`id="fu-ciba-approved"[^>]*>approved: 2<`).MatchString(got.Body) {
		t.Error("the 7d window does not count the older approval")
	}
}
