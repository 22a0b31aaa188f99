package trail_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// TestSearchWithMFAFilterPagesBothWays: the MFA filter reads as many
// store pages as it needs, forward and back, and every record without MFA
// is seen exactly once whichever way the pages are walked.
func TestSearchWithMFAFilterPagesBothWays(t *testing.T) {
	st := sqlstoretest.Backends()[0].Open(t)
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	var recs []storage.AuditRecord
	var noMFA []string
	for i := range 90 {
		mfa := i%5 != 0 // one in five without MFA: pages need several store reads
		id := fmt.Sprintf("d-%02d", i)
		recs = append(recs, storage.AuditRecord{ChainID: "c", Kind: storage.KindDecision, Time: start.Add(time.Duration(i) * time.Second),
			DecisionID: id, Subject: "alice", Action: "billing.pay", Outcome: "allow",
			Input: fmt.Appendf(nil, `{"subject":{"authn":{"mfa":%t}}}`, mfa)})
		if !mfa {
			noMFA = append(noMFA, id)
		}
	}
	if err := st.AppendAudit(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(noMFA) // newest first
	tr := trailOf(t, st)
	ids := func(p trail.SearchPage) []string {
		var out []string
		for _, e := range p.Entries {
			out = append(out, e.Rec.DecisionID)
		}
		return out
	}
	f := trail.Filter{Query: storage.AuditQuery{Limit: 4}, MFA: "no"}
	var pages []trail.SearchPage
	for range 20 {
		p, err := tr.Search(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		if p.NextCursor == "" {
			break
		}
		f.Query.Cursor, f.Back = p.NextCursor, false
	}
	var forward []string
	for _, p := range pages {
		forward = append(forward, ids(p)...)
	}
	if !slices.Equal(forward, noMFA) {
		t.Fatalf("forward: %v, want %v", forward, noMFA)
	}
	if len(pages) < 3 {
		t.Fatalf("%d pages; the fixture should need several", len(pages))
	}
	// Back from the last page: each page back holds the records just
	// before the page it came from, and the first page has no way back.
	last := pages[len(pages)-1]
	var back []string
	cur := last
	for range 20 {
		if cur.PrevCursor == "" {
			break
		}
		f.Query.Cursor, f.Back = cur.PrevCursor, true
		p, err := tr.Search(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		back = append(ids(p), back...)
		cur = p
	}
	if want := noMFA[:len(noMFA)-len(ids(last))]; !slices.Equal(back, want) {
		t.Errorf("back: %v, want %v", back, want)
	}
}
