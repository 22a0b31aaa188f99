package adminhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// seedRec is one audit record to seed, ago before the test clock.
type seedRec struct {
	id, kind, subject, action, outcome, client string
	ago                                        time.Duration
	methods                                    []string
	rev                                        int64
}

// seed appends recs one by one (so ids follow the slice order) with a
// policy input carrying the authentication facts, as the engine stores it.
func (e *env) seed(recs ...seedRec) {
	e.t.Helper()
	for _, s := range recs {
		rec := storage.AuditRecord{ChainID: "test", Time: e.clock.Now().Add(-s.ago), Kind: s.kind, DecisionID: s.id,
			Subject: s.subject, Action: s.action, Outcome: s.outcome, ClientID: s.client, PolicyRevision: s.rev,
			Reasons: []string{s.action + " decided " + s.outcome}}
		if rec.Kind == "" {
			rec.Kind = storage.KindDecision
		}
		if rec.Kind == storage.KindDecision {
			in, _ := json.Marshal(map[string]any{"action": map[string]any{"name": s.action},
				"subject": map[string]any{"id": s.subject, "authn": map[string]any{"methods": s.methods,
					"mfa": slices.Contains(s.methods, "mfa"), "age": 60}}})
			rec.Input = in
		}
		if err := e.store.AppendAudit(context.Background(), []storage.AuditRecord{rec}); err != nil {
			e.t.Fatal(err)
		}
	}
}

const day = 24 * time.Hour

// auditFixture: dec-1 is alice paying without MFA two days ago (with a
// step-up follow-up), dec-5 dave paying without MFA three days ago.
func auditFixture(e *env) {
	pwd, mfa := []string{"pwd"}, []string{"pwd", "mfa"}
	e.seed(
		seedRec{id: "dec-3", subject: "bob", action: "billing.view", outcome: "deny", client: "web-app", ago: 10 * day, methods: pwd, rev: 1},
		seedRec{id: "dec-5", subject: "dave", action: "billing.pay", outcome: "allow", client: "web-app", ago: 3 * day, methods: pwd, rev: 2},
		seedRec{id: "dec-1", subject: "alice", action: "billing.pay", outcome: "step_up", client: "billing-svc", ago: 2 * day, methods: pwd, rev: 1},
		seedRec{id: "dec-1", kind: storage.KindStepUp, subject: "alice", action: "billing.pay", outcome: "verified", client: "billing-svc", ago: 2*day - time.Minute},
		seedRec{id: "dec-2", subject: "alice", action: "billing.pay", outcome: "allow", client: "billing-svc", ago: time.Hour, methods: mfa, rev: 1},
		seedRec{id: "dec-4", subject: "carol", action: "profile.update", outcome: "allow", client: "web-app", ago: 30 * time.Minute, methods: mfa, rev: 1},
	)
}

var decisionLinkRE = regexp.MustCompile(`href="/audit/decisions/([^"]+)"`)

// decisionLinks lists the decision ids a page links to, in page order.
func decisionLinks(body string) []string {
	var ids []string
	for _, m := range decisionLinkRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestAuditSearchFilters(t *testing.T) {
	e := newEnv(t)
	auditFixture(e)
	now := e.clock.Now().UTC()
	form := func(d time.Duration) string { return now.Add(-d).Format("2006-01-02T15:04") }
	tests := []struct {
		name, query string
		want        []string
	}{
		{"everything newest first", "", []string{"dec-4", "dec-2", "dec-1", "dec-1", "dec-5", "dec-3"}},
		{"subject", "subject=alice", []string{"dec-2", "dec-1", "dec-1"}},
		{"action", "action=billing.pay&kind=decision", []string{"dec-2", "dec-1", "dec-5"}},
		{"outcome", "outcome=deny", []string{"dec-3"}},
		{"client", "client=web-app", []string{"dec-4", "dec-5", "dec-3"}},
		{"kind", "kind=stepup", []string{"dec-1"}},
		{"decision id", "decision=dec-2", []string{"dec-2"}},
		{"policy revision", "revision=2", []string{"dec-5"}},
		{"last 24 hours", "range=24h", []string{"dec-4", "dec-2"}},
		{"since and until", "since=" + form(4*day) + "&until=" + form(36*time.Hour), []string{"dec-1", "dec-1", "dec-5"}},
		{"without MFA", "mfa=no", []string{"dec-1", "dec-5", "dec-3"}},
		{"with MFA", "mfa=yes", []string{"dec-4", "dec-2"}},
		{"nothing matches", "subject=nobody", nil},
	}
	b := e.browser()
	b.signIn()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.get("/audit?" + tc.query)
			if r.Code != http.StatusOK {
				t.Fatalf("status %d", r.Code)
			}
			if got := decisionLinks(r.Body); !slices.Equal(got, tc.want) {
				t.Fatalf("?%s: %v, want %v", tc.query, got, tc.want)
			}
			if tc.want == nil {
				mustContain(t, r, "No records match these filters")
			}
		})
	}
}

func TestAuditSearchRejectsBadFilters(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	for _, q := range []string{"revision=abc", "outcome=maybe", "since=yesterday", "cursor=garbage"} {
		t.Run(q, func(t *testing.T) {
			r := b.get("/audit?" + q)
			if r.Code != http.StatusBadRequest {
				t.Fatalf("?%s: %d, want 400", q, r.Code)
			}
		})
	}
	mustContain(t, b.get("/audit?revision=abc&subject=kept"), "a revision number", `value="kept"`)
}

// TestQuickSearchPaymentsWithoutMFA follows the page's own link, the way a
// person finds "who paid without MFA last week" without reading docs.
func TestQuickSearchPaymentsWithoutMFA(t *testing.T) {
	e := newEnv(t)
	auditFixture(e)
	b := e.browser()
	b.signIn()
	m := regexp.MustCompile(`<a href="([^"]+)">Payments without MFA, last 7 days</a>`).FindStringSubmatch(b.get("/audit").Body)
	if m == nil {
		t.Fatal("the audit page offers no 'Payments without MFA' search")
	}
	r := b.get(html.UnescapeString(m[1]))
	if got := decisionLinks(r.Body); !slices.Equal(got, []string{"dec-1", "dec-5"}) {
		t.Fatalf("payments without MFA last week: %v, want alice's dec-1 and dave's dec-5", got)
	}
	mustContain(t, r, "alice", "dave")
}

var olderRE = regexp.MustCompile(`<a class="button secondary" href="([^"]+)" rel="next">`)

func TestAuditSearchPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 60 {
		e.seed(seedRec{id: fmt.Sprintf("p-%02d", i), subject: "pat", action: "billing.view", outcome: "allow", ago: time.Duration(60-i) * time.Minute})
	}
	e.seed(seedRec{id: "other", subject: "zoe", action: "billing.view", outcome: "allow"})
	b := e.browser()
	b.signIn()
	r := b.get("/audit?subject=pat")
	first := decisionLinks(r.Body)
	if len(first) != 50 || first[0] != "p-59" || first[49] != "p-10" {
		t.Fatalf("page 1: %d records, %v … %v", len(first), first[:1], first[len(first)-1:])
	}
	m := olderRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatal("page 1 has no link to older records")
	}
	r = b.get(html.UnescapeString(m[1]))
	second := decisionLinks(r.Body)
	if len(second) != 10 || second[0] != "p-09" || second[9] != "p-00" {
		t.Fatalf("page 2 (the filter must survive paging): %v", second)
	}
	if olderRE.MatchString(r.Body) {
		t.Fatal("the last page links to more")
	}
}
