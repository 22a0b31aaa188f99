package adminhttp_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// seedBulk appends decision records in one batch, for tests that need
// thousands.
func (e *env) seedBulk(recs []seedRec) {
	e.t.Helper()
	out := make([]storage.AuditRecord, len(recs))
	for i, s := range recs {
		out[i] = storage.AuditRecord{ChainID: "test", Time: e.clock.Now().Add(-s.ago), Kind: storage.KindDecision,
			DecisionID: s.id, Subject: s.subject, Action: s.action, Outcome: s.outcome}
	}
	if err := e.store.AppendAudit(context.Background(), out); err != nil {
		e.t.Fatal(err)
	}
}

var (
	newerRE    = regexp.MustCompile(`<a class="button secondary" href="([^"]+)" rel="[a-z]+">← Newer records</a>`)
	olderAnyRE = regexp.MustCompile(`<a class="button secondary" href="([^"]+)" rel="[a-z]+">Older records →</a>`)
	firstRE    = regexp.MustCompile(`<a class="button secondary" href="([^"]+)">First page</a>`)
	countRE    = regexp.MustCompile(`<p id="result-count" role="status">([^<]*)</p>`)
)

func link(t *testing.T, re *regexp.Regexp, r response, what string) string {
	t.Helper()
	m := re.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no %s link", what)
	}
	return html.UnescapeString(m[1])
}

func resultCount(t *testing.T, r response) string {
	t.Helper()
	m := countRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no result count on the page (%d)", r.Code)
	}
	return html.UnescapeString(m[1])
}

func TestAuditSearchMatchesAnyCasePrefix(t *testing.T) {
	e := newEnv(t)
	e.seed(
		seedRec{id: "d-alice", subject: "Alice", action: "billing.pay", outcome: "allow", ago: 3 * time.Minute},
		seedRec{id: "d-alina", subject: "alina@example.com", action: "billing.view", outcome: "deny", ago: 2 * time.Minute},
		seedRec{id: "d-bob", subject: "bob", action: "profile.update", outcome: "allow", ago: time.Minute},
	)
	b := e.browser()
	b.signIn()
	tests := []struct {
		query string
		want  []string
		count string
	}{
		{"subject=ali", []string{"d-alina", "d-alice"}, "2 records match."},
		{"subject=ALICE", []string{"d-alice"}, "1 record match."},
		{"action=billing", []string{"d-alina", "d-alice"}, "2 records match."},
		{"action=BILLING.P&subject=a", []string{"d-alice"}, "1 record match."},
		{"subject=carol", nil, "0 records match."},
	}
	for _, tc := range tests {
		r := b.get("/audit?" + tc.query)
		if got := decisionLinks(r.Body); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
		if got := resultCount(t, r); got != tc.count {
			t.Errorf("%s: count %q, want %q", tc.query, got, tc.count)
		}
	}
}

func TestAuditSearchPagesBothWaysAndOrders(t *testing.T) {
	e := newEnv(t)
	for i := range 120 {
		e.seed(seedRec{id: fmt.Sprintf("p-%03d", i), subject: "pat", action: "billing.view", outcome: "allow", ago: time.Duration(120-i) * time.Minute})
	}
	b := e.browser()
	b.signIn()
	p1 := b.get("/audit?subject=Pat")
	if got := resultCount(t, p1); got != "120 records match." {
		t.Errorf("count = %q", got)
	}
	if newerRE.MatchString(p1.Body) || firstRE.MatchString(p1.Body) {
		t.Error("the first page links to newer records or to itself")
	}
	p2 := b.get(link(t, olderAnyRE, p1, "older"))
	p3 := b.get(link(t, olderAnyRE, p2, "older"))
	if got := decisionLinks(p3.Body); len(got) != 20 || got[0] != "p-019" || got[19] != "p-000" {
		t.Fatalf("page 3: %v", got)
	}
	if olderAnyRE.MatchString(p3.Body) {
		t.Error("the last page links to older records")
	}
	back := b.get(link(t, newerRE, p3, "newer"))
	if got, want := decisionLinks(back.Body), decisionLinks(p2.Body); !slices.Equal(got, want) {
		t.Errorf("back from page 3: %v…, want page 2 %v…", got[:2], want[:2])
	}
	if got := decisionLinks(b.get(link(t, firstRE, back, "first")).Body); !slices.Equal(got, decisionLinks(p1.Body)) {
		t.Error("the first-page link does not lead to page 1")
	}

	o1 := b.get("/audit?subject=pat&order=oldest")
	got := decisionLinks(o1.Body)
	if len(got) != 50 || got[0] != "p-000" || got[49] != "p-049" {
		t.Fatalf("oldest first page 1: %v…", got[:3])
	}
	mustContain(t, o1, `<option value="oldest" selected>`)
	o2 := b.get(link(t, newerRE, o1, "newer (oldest first)"))
	if got := decisionLinks(o2.Body); got[0] != "p-050" {
		t.Errorf("oldest first page 2 starts at %v", got[0])
	}
	if got := decisionLinks(b.get(link(t, olderAnyRE, o2, "older (oldest first)")).Body); !slices.Equal(got, decisionLinks(o1.Body)) {
		t.Error("going back in oldest-first order does not return to page 1")
	}
}

func TestAuditSearchCountHasABound(t *testing.T) {
	e := newEnv(t)
	recs := make([]seedRec, 10_001)
	for i := range recs {
		recs[i] = seedRec{id: fmt.Sprintf("m-%05d", i), subject: "many", action: "billing.view", outcome: "allow", ago: time.Duration(i) * time.Second}
	}
	e.seedBulk(recs)
	b := e.browser()
	b.signIn()
	if got := resultCount(t, b.get("/audit?subject=many")); got != "More than 10000 records match." {
		t.Errorf("count = %q", got)
	}
}

func TestAuditSearchRefusesAnInvertedRange(t *testing.T) {
	e := newEnv(t)
	e.seed(seedRec{id: "d-1", subject: "alice", action: "billing.pay", outcome: "allow"})
	b := e.browser()
	b.signIn()
	for _, q := range []string{"since=2026-03-02T10:00&until=2026-03-01T10:00", "since=2026-03-02T10:00&until=2026-03-02T10:00"} {
		r := b.get("/audit?" + q)
		if r.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, r.Code)
		}
		mustContain(t, r, `id="until-error"`, "must be later than From", `aria-invalid="true" aria-describedby="until-error"`)
		if len(decisionLinks(r.Body)) != 0 {
			t.Errorf("%s: results shown for an invalid range", q)
		}
	}
	r := b.get("/api/audit?since=2026-03-02T10:00&until=2026-03-01T10:00")
	if r.Code != http.StatusBadRequest {
		t.Errorf("API with an inverted range: %d, want 400", r.Code)
	}
}

// TestAuditSearchShowsAdminChanges: an admin change found by the main
// search names its target and the reason given.
func TestAuditSearchShowsAdminChanges(t *testing.T) {
	_, _, b := clientEnv(t)
	createClient(t, b)
	r := b.get("/audit?kind=admin&action=CLIENT.")
	mustContain(t, r, "client.create", "client billing-svc", "why: CHG-1 onboard billing", "1 record match.")
}

func TestSavedSearchesArePerPerson(t *testing.T) {
	e := newEnv(t)
	e.seed(seedRec{id: "d-1", subject: "alice", action: "billing.pay", outcome: "allow"})
	b := e.browser()
	b.signIn()
	page := b.get("/audit?subject=ali&action=billing&mfa=no")
	m := regexp.MustCompile(`name="query" value="([^"]*)"`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatal("no save form")
	}
	query := html.UnescapeString(m[1])
	r := b.post("/audit/saved", url.Values{"name": {"  "}, "query": {query}})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("blank name: %d", r.Code)
	}
	mustContain(t, r, `id="save-name-error"`)
	r = b.post("/audit/saved", url.Values{"name": {"Alice's payments without MFA"}, "query": {query}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.Code, r.Body)
	}
	list := b.get("/audit")
	mustContain(t, list, "Alice&#39;s payments without MFA")
	saved, err := e.store.ListSavedSearches(context.Background(), admin.LocalAdmin)
	if err != nil || len(saved) != 1 {
		t.Fatalf("stored: %+v, %v", saved, err)
	}
	q, _ := url.ParseQuery(saved[0].Query)
	if q.Get("subject") != "ali" || q.Get("action") != "billing" || q.Get("mfa") != "no" || q.Has("cursor") {
		t.Errorf("saved query %q, want the filters without the cursor", saved[0].Query)
	}
	if r := b.post("/audit/saved", url.Values{"name": {"Alice's payments without MFA"}, "query": {query}}); r.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, "already saved a search with this name") {
		t.Errorf("same name again: %d", r.Code)
	}

	other := e.auditor()
	if strings.Contains(other.get("/audit").Body, "Alice&#39;s payments") {
		t.Error("another person sees the saved search")
	}
	if r := other.post(fmt.Sprintf("/audit/saved/%d/delete", saved[0].ID), nil); r.Code != http.StatusNotFound {
		t.Errorf("another person deleting it: %d, want 404", r.Code)
	}
	if r := b.post(fmt.Sprintf("/audit/saved/%d/delete", saved[0].ID), nil); r.Code != http.StatusSeeOther {
		t.Errorf("delete: %d", r.Code)
	}
	if saved, _ := e.store.ListSavedSearches(context.Background(), admin.LocalAdmin); len(saved) != 0 {
		t.Errorf("still saved: %+v", saved)
	}
}
