package sqlstore_test

import (
	"fmt"
	"testing"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// TestRememberedHeadGoesStale appends to one chain through two stores on
// the same database (two processes sharing a chain id, or a CLI and the
// server): each store's remembered head is outdated whenever the other
// appended, so its conditional head UPDATE must match nothing and the batch
// be relinked onto the real head. The chain must come out contiguous and
// verifiable, whichever store wrote each batch.
func TestRememberedHeadGoesStale(t *testing.T) {
	for name, mkURL := range reopenable(t) {
		t.Run(name, func(t *testing.T) {
			dsn := mkURL(t)
			a, b := openURL(t, dsn), openURL(t, dsn)
			t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
			writers := []struct {
				name  string
				store *sqlstore.Store
				n     int
			}{
				{"a", a, 2}, {"a", a, 1}, {"b", b, 3}, {"a", a, 1}, {"b", b, 1}, {"b", b, 2}, {"a", a, 2},
			}
			seq := int64(0)
			for i, w := range writers {
				recs := make([]storage.AuditRecord, w.n)
				for j := range recs {
					recs[j] = storage.AuditRecord{ChainID: "shared", Kind: storage.KindDecision,
						DecisionID: fmt.Sprintf("%s-%d-%d", w.name, i, j)}
				}
				if err := w.store.AppendAudit(t.Context(), recs); err != nil {
					t.Fatalf("batch %d through %s: %v", i, w.name, err)
				}
				for _, r := range recs {
					seq++
					if r.Seq != seq {
						t.Fatalf("batch %d through %s: record %s got seq %d, want %d", i, w.name, r.DecisionID, r.Seq, seq)
					}
				}
			}
			for _, s := range []*sqlstore.Store{a, b} {
				rep, err := s.VerifyAudit(t.Context())
				if err != nil || !rep.OK || rep.Checked != seq {
					t.Fatalf("verify: %+v, %v (want %d records intact)", rep, err, seq)
				}
			}
		})
	}
}
