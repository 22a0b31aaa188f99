package conformance

import (
	"errors"
	"testing"

	"github.com/stepgate/stepgate/storage"
)

func auditJournalTests() []subTest {
	return []subTest{
		{"AuditJournalPositions", testAuditJournalPositions},
		{"AuditJournalAtomic", testAuditJournalAtomic},
	}
}

// position reads journal id's position or fails the test.
func position(t *testing.T, s storage.Store, id string) int64 {
	t.Helper()
	pos, err := s.AuditJournalPosition(ctxFor(t), id)
	mustNoErr(t, err, "journal position")
	return pos
}

// testAuditJournalPositions: a journal's position starts at 0, moves only
// from where it stands, and journals are independent.
func testAuditJournalPositions(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	if got := position(t, s, "j1"); got != 0 {
		t.Fatalf("new journal at %d, want 0", got)
	}
	recs := []storage.AuditRecord{decision("jc", 1), decision("jc", 2)}
	mustNoErr(t, s.AppendAuditJournaled(ctx, "j1", 0, 2, recs), "append entries 1..2")
	if recs[0].Seq != 1 || recs[1].Seq != 2 || recs[1].PrevHash != recs[0].Hash || recs[1].ID <= 0 {
		t.Errorf("journaled records not chained like AppendAudit's: %+v", recs)
	}
	if got := position(t, s, "j1"); got != 2 {
		t.Fatalf("position %d after entries 1..2, want 2", got)
	}
	// The same entries again, or a range that does not start where the
	// journal stands, are refused and append nothing.
	for _, c := range []struct{ from, through int64 }{{0, 2}, {1, 3}, {3, 4}} {
		err := s.AppendAuditJournaled(ctx, "j1", c.from, c.through, []storage.AuditRecord{decision("jc", 9)})
		if !errors.Is(err, storage.ErrConflict) {
			t.Errorf("entries %d..%d with the journal at 2: err %v, want ErrConflict", c.from+1, c.through, err)
		}
	}
	mustNoErr(t, s.AppendAuditJournaled(ctx, "j1", 2, 3, []storage.AuditRecord{decision("jc", 3)}), "append entry 3")
	mustNoErr(t, s.AppendAuditJournaled(ctx, "j2", 0, 1, []storage.AuditRecord{decision("jc", 4)}), "append entry 1 of j2")
	if got := position(t, s, "j1"); got != 3 {
		t.Errorf("j1 at %d, want 3", got)
	}
	if got := position(t, s, "j2"); got != 1 {
		t.Errorf("j2 at %d, want 1", got)
	}
	heads, err := s.AuditHeads(ctx)
	mustNoErr(t, err, "heads")
	for _, h := range heads {
		if h.ChainID == "jc" && h.Seq != 4 {
			t.Errorf("chain jc ends at seq %d, want 4 (one record per accepted entry)", h.Seq)
		}
	}
	// An entry that carried no record (skipped) still moves the position.
	mustNoErr(t, s.AppendAuditJournaled(ctx, "j1", 3, 4, nil), "move past entry 4")
	if got := position(t, s, "j1"); got != 4 {
		t.Errorf("j1 at %d after an empty move, want 4", got)
	}
	for _, c := range []struct {
		id            string
		from, through int64
		n             int
	}{{"", 0, 1, 1}, {"j3", 2, 2, 0}, {"j3", -1, 1, 0}, {"j3", 0, 1, 2}} {
		recs := make([]storage.AuditRecord, c.n)
		for i := range recs {
			recs[i] = decision("jc", 20+i)
		}
		if err := s.AppendAuditJournaled(ctx, c.id, c.from, c.through, recs); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("journal %q entries %d..%d with %d records: err %v, want ErrInvalid", c.id, c.from+1, c.through, c.n, err)
		}
	}
}

// testAuditJournalAtomic: when the records cannot be appended, the
// position does not move.
func testAuditJournalAtomic(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	bad := decision("jx", 2)
	bad.Kind = ""
	err := s.AppendAuditJournaled(ctx, "ja", 0, 2, []storage.AuditRecord{decision("jx", 1), bad})
	if err == nil {
		t.Fatal("a batch with an invalid record was appended")
	}
	if got := position(t, s, "ja"); got != 0 {
		t.Errorf("position %d after a failed append, want 0", got)
	}
	page, err := s.SearchAudit(ctx, storage.AuditQuery{Limit: 10})
	mustNoErr(t, err, "search")
	for _, r := range page.Records {
		if r.ChainID == "jx" {
			t.Errorf("record of a failed journaled append is stored: %+v", r)
		}
	}
	// And a refused position move leaves the records out too.
	mustNoErr(t, s.AppendAuditJournaled(ctx, "ja", 0, 1, []storage.AuditRecord{decision("jy", 1)}), "append entry 1")
	if err := s.AppendAuditJournaled(ctx, "ja", 0, 2, []storage.AuditRecord{decision("jy", 2)}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale range: err %v, want ErrConflict", err)
	}
	heads, err := s.AuditHeads(ctx)
	mustNoErr(t, err, "heads")
	for _, h := range heads {
		if h.ChainID == "jy" && h.Seq != 1 {
			t.Errorf("chain jy ends at seq %d after a refused move, want 1", h.Seq)
		}
	}
}
