package sqlstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// TestPrefixSearchPlansAgree checks that SQLite's two plans for a prefix
// search, sorting the index matches and walking the time index, return the
// same pages in both orders and both directions.
func TestPrefixSearchPlansAgree(t *testing.T) {
	s := sqlstoretest.Backends()[0].Open(t)
	if s.Dialect() != sqlstore.SQLite {
		t.Fatalf("first backend is %s, want sqlite", s.Dialect())
	}
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var recs []storage.AuditRecord
	for i := range 90 {
		recs = append(recs, storage.AuditRecord{ChainID: "c", Time: start.Add(time.Duration(i/3) * time.Second),
			Kind: storage.KindDecision, DecisionID: fmt.Sprint("d", i), ClientID: []string{"a", "b"}[i%2],
			Subject: []string{"Alice", "alex", "bob", "ALINA", "carol"}[i%5], Action: []string{"billing.pay", "Billing.View", "profile"}[i%3],
			Outcome: "allow"})
	}
	if err := s.AppendAudit(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	walk := func(q storage.AuditQuery) (pages [][]int64) {
		for range 50 {
			page, err := s.SearchAudit(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, r := range page.Records {
				ids = append(ids, r.ID)
			}
			pages = append(pages, ids)
			if page.NextCursor == "" {
				return pages
			}
			q.Cursor = page.NextCursor
		}
		t.Fatal("more than 50 pages")
		return nil
	}
	for _, q := range []storage.AuditQuery{
		{Limit: 7, SubjectPrefix: "al"},
		{Limit: 5, SubjectPrefix: "AL", ActionPrefix: "billing", OldestFirst: true},
		{Limit: 4, ActionPrefix: "billing.v", ClientID: "b"},
	} {
		sorted := walk(q)
		restore := sqlstore.SetDenseMatches(1)
		byTime := walk(q)
		restore()
		if !slices.EqualFunc(sorted, byTime, slices.Equal) {
			t.Errorf("%+v: sorted plan %v, time-walk plan %v", q, sorted, byTime)
		}
		if len(sorted) < 2 {
			t.Errorf("%+v: only %d page(s); the fixture should span several", q, len(sorted))
		}
	}
}
