package conformance

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// searchFixture appends 40 records on two chains; every pair of consecutive
// records shares a timestamp, so pagination must break ties by id.
func searchFixture(t testing.TB, s storage.Store) []storage.AuditRecord {
	t.Helper()
	var recs []storage.AuditRecord
	for i := range 40 {
		r := decision([]string{"a", "b"}[i%2], i)
		r.Time = baseTime().Add(time.Duration(i/2) * time.Second)
		recs = append(recs, r)
	}
	appendAll(t, s, recs[:25]...)
	appendAll(t, s, recs[25:]...)
	return recs
}

// newestFirst returns the records matching keep, ordered as the store must.
func newestFirst(recs []storage.AuditRecord, keep func(storage.AuditRecord) bool) []int64 {
	var out []storage.AuditRecord
	for _, r := range recs {
		if keep(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b storage.AuditRecord) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	ids := make([]int64, len(out))
	for i, r := range out {
		ids[i] = r.ID
	}
	return ids
}

func auditSearchTests() []subTest {
	return []subTest{
		{"AuditSearchFilters", testAuditSearchFilters},
		{"AuditSearchPagination", testAuditSearchPagination},
		{"AuditExport", testAuditExport},
	}
}

func testAuditSearchFilters(t *testing.T, s storage.Store) {
	recs := searchFixture(t, s)
	since, until := baseTime().Add(5*time.Second), baseTime().Add(12*time.Second)
	tests := []struct {
		name string
		q    storage.AuditQuery
		keep func(storage.AuditRecord) bool
	}{
		{"all", storage.AuditQuery{}, func(storage.AuditRecord) bool { return true }},
		{"time range", storage.AuditQuery{Since: &since, Until: &until}, func(r storage.AuditRecord) bool {
			return !r.Time.Before(micro(since)) && r.Time.Before(micro(until))
		}},
		{"client", storage.AuditQuery{ClientID: "shop"}, func(r storage.AuditRecord) bool { return r.ClientID == "shop" }},
		{"subject", storage.AuditQuery{Subject: "user-2"}, func(r storage.AuditRecord) bool { return r.Subject == "user-2" }},
		{"action", storage.AuditQuery{Action: "billing.pay"}, func(r storage.AuditRecord) bool { return r.Action == "billing.pay" }},
		{"outcome", storage.AuditQuery{Outcome: "step_up"}, func(r storage.AuditRecord) bool { return r.Outcome == "step_up" }},
		{"decision id", storage.AuditQuery{DecisionID: recs[17].DecisionID}, func(r storage.AuditRecord) bool { return r.DecisionID == recs[17].DecisionID }},
		{"policy revision", storage.AuditQuery{PolicyRevision: 2}, func(r storage.AuditRecord) bool { return r.PolicyRevision == 2 }},
		{"kind", storage.AuditQuery{Kind: storage.KindDecision}, func(storage.AuditRecord) bool { return true }},
		{"combined", storage.AuditQuery{ClientID: "billing-svc", Outcome: "allow", Since: &since}, func(r storage.AuditRecord) bool {
			return r.ClientID == "billing-svc" && r.Outcome == "allow" && !r.Time.Before(micro(since))
		}},
		{"no match", storage.AuditQuery{Subject: "nobody"}, func(storage.AuditRecord) bool { return false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 1000
			page, err := s.SearchAudit(ctxFor(t), tc.q)
			mustNoErr(t, err, "search")
			if want := newestFirst(recs, tc.keep); !slices.Equal(recordIDs(page.Records), want) {
				t.Errorf("ids = %v, want %v", recordIDs(page.Records), want)
			}
			if page.NextCursor != "" {
				t.Errorf("single complete page has a next cursor")
			}
		})
	}
}

func testAuditSearchPagination(t *testing.T, s storage.Store) {
	recs := searchFixture(t, s)
	tests := []struct {
		name  string
		q     storage.AuditQuery
		keep  func(storage.AuditRecord) bool
		pages int
	}{
		{"all in pages of 7", storage.AuditQuery{Limit: 7}, func(storage.AuditRecord) bool { return true }, 6},
		{"filtered in pages of 3", storage.AuditQuery{Limit: 3, ClientID: "shop"}, func(r storage.AuditRecord) bool { return r.ClientID == "shop" }, 7},
		{"exact multiple", storage.AuditQuery{Limit: 10}, func(storage.AuditRecord) bool { return true }, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ids []int64
			q, pages := tc.q, 0
			for {
				page, err := s.SearchAudit(ctxFor(t), q)
				mustNoErr(t, err, "search page")
				pages++
				ids = append(ids, recordIDs(page.Records)...)
				if page.NextCursor == "" || pages > 50 {
					break
				}
				q.Cursor = page.NextCursor
			}
			if want := newestFirst(recs, tc.keep); !slices.Equal(ids, want) {
				t.Errorf("paged ids = %v, want %v", ids, want)
			}
			if pages != tc.pages {
				t.Errorf("took %d pages, want %d", pages, tc.pages)
			}
		})
	}
	page, err := s.SearchAudit(ctxFor(t), storage.AuditQuery{})
	mustNoErr(t, err, "default limit")
	if len(page.Records) != 40 || page.NextCursor != "" {
		t.Errorf("default page holds %d records (cursor %q), want all 40", len(page.Records), page.NextCursor)
	}
	_, err = s.SearchAudit(ctxFor(t), storage.AuditQuery{Cursor: "not-a-cursor"})
	wantErr(t, err, storage.ErrInvalid, "search with a bad cursor")
}

func testAuditExport(t *testing.T, s storage.Store) {
	recs := searchFixture(t, s)
	var ids []int64
	mustNoErr(t, s.ExportAudit(ctxFor(t), storage.AuditQuery{Outcome: "deny", Limit: 1}, func(r storage.AuditRecord) error {
		ids = append(ids, r.ID)
		return nil
	}), "export")
	if want := newestFirst(recs, func(r storage.AuditRecord) bool { return r.Outcome == "deny" }); !slices.Equal(ids, want) {
		t.Errorf("exported ids = %v, want %v (limit ignored)", ids, want)
	}

	v := storage.NewChainVerifier()
	mustNoErr(t, s.ExportAudit(ctxFor(t), storage.AuditQuery{ChainOrder: true}, func(r storage.AuditRecord) error {
		if b := v.Add(r); b != nil {
			t.Errorf("offline verification of the export: %+v", b)
		}
		return nil
	}), "export in chain order")
	if b := v.Finish(); b != nil || v.Checked() != 40 {
		t.Errorf("offline verification finished with %+v after %d records", b, v.Checked())
	}

	stop := errors.New("stop")
	calls := 0
	err := s.ExportAudit(ctxFor(t), storage.AuditQuery{}, func(storage.AuditRecord) error {
		calls++
		return stop
	})
	wantErr(t, err, stop, "export with a failing callback")
	if calls != 1 {
		t.Errorf("callback ran %d times after failing, want 1", calls)
	}
}

func recordIDs(recs []storage.AuditRecord) []int64 {
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}
