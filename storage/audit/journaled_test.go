package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// journalStore is a real store whose journaled appends can fail, or commit
// and then report a failure (a connection lost at commit).
type journalStore struct {
	storage.Store
	mu          sync.Mutex
	failing     error
	lieOnce     bool
	appendCalls int
	block       chan struct{} // when set, appends wait for it to close
}

func (s *journalStore) AppendAuditJournaled(ctx context.Context, id string, from, through int64, recs []storage.AuditRecord) error {
	s.mu.Lock()
	failing, lie, block := s.failing, s.lieOnce, s.block
	s.lieOnce = false
	s.appendCalls++
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if failing != nil {
		return failing
	}
	err := s.Store.AppendAuditJournaled(ctx, id, from, through, recs)
	if err == nil && lie {
		return errors.New("connection reset by peer (after the commit)")
	}
	return err
}

func (s *journalStore) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = err
}

func newJournaled(t *testing.T, store audit.Appender, dir string, mode string, backlog int) *audit.Writer {
	t.Helper()
	w, err := audit.NewWriter(audit.Config{Store: store, ChainID: "jchain", Mode: mode, JournalDir: dir,
		JournalBacklog: backlog, MaxDelay: 5 * time.Millisecond, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("new writer: %v", err)
	}
	return w
}

// storedIDs returns the decision ids of chain jchain in seq order and
// checks that every chain verifies.
func storedIDs(t *testing.T, store storage.Store) []string {
	t.Helper()
	var recs []storage.AuditRecord
	if err := store.ExportAudit(t.Context(), storage.AuditQuery{}, func(r storage.AuditRecord) error {
		if r.ChainID == "jchain" {
			recs = append(recs, r)
		}
		return nil
	}); err != nil {
		t.Fatalf("export: %v", err)
	}
	slices.SortFunc(recs, func(a, b storage.AuditRecord) int { return int(a.Seq - b.Seq) })
	ids := make([]string, len(recs))
	for i, r := range recs {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d of the chain has seq %d", i+1, r.Seq)
		}
		ids[i] = r.DecisionID
	}
	rep, err := store.VerifyAudit(t.Context())
	if err != nil || !rep.OK {
		t.Fatalf("verify = %+v (%+v), %v", rep, rep.FirstBroken, err)
	}
	return ids
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

func closeWriter(t *testing.T, w *audit.Writer, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return w.Close(ctx)
}

// TestJournalIndexesEveryRecordInOrder: concurrent sync writers, records
// journaled and then indexed; WaitIndexed makes them searchable; the store
// holds each exactly once, in journal order, and the journal position is
// the record count.
func TestJournalIndexesEveryRecordInOrder(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			store := b.Open(t)
			w := newJournaled(t, store, t.TempDir(), audit.ModeSync, 0)
			var wg sync.WaitGroup
			for c := range 8 {
				wg.Go(func() {
					for _, id := range ids(fmt.Sprintf("c%d", c), 50) {
						if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
							t.Errorf("write %s: %v", id, err)
						}
					}
				})
			}
			wg.Wait()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := w.WaitIndexed(ctx); err != nil {
				t.Fatalf("wait indexed: %v", err)
			}
			got := storedIDs(t, store)
			if len(got) != 400 {
				t.Fatalf("store holds %d records right after WaitIndexed, want 400", len(got))
			}
			js, ok := w.Journal()
			if !ok || js.Journaled != 400 || js.Indexed != 400 || js.Backlog != 0 || js.IndexErr != nil {
				t.Errorf("journal stats %+v", js)
			}
			if pos, err := store.AuditJournalPosition(t.Context(), js.ID); err != nil || pos != 400 {
				t.Errorf("stored position %d, %v; want 400", pos, err)
			}
			if err := closeWriter(t, w, 10*time.Second); err != nil {
				t.Fatalf("close: %v", err)
			}
			slices.Sort(got)
			if len(slices.Compact(got)) != 400 {
				t.Errorf("a record was indexed twice")
			}
		})
	}
}

// TestJournalHealthFailsWithAFullBacklog: while the database hangs (an
// append neither succeeds nor fails yet), the writer refuses records once
// the backlog is full, and Healthy must say so at once, so that readiness
// never reports ready while decisions are denied for the trail.
func TestJournalHealthFailsWithAFullBacklog(t *testing.T) {
	b := sqlstoretest.Backends()[0]
	b.Require(t)
	block := make(chan struct{})
	store := &journalStore{Store: b.Open(t), block: block}
	w := newJournaled(t, store, t.TempDir(), audit.ModeSync, 3)
	for _, id := range ids("hang", 3) {
		if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
			t.Fatalf("write %s: %v", id, err)
		}
	}
	if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: "refused"}); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("write beyond the bound: %v, want ErrUnavailable", err)
	}
	if err := w.Healthy(); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("Healthy() = %v while records are refused, want ErrUnavailable", err)
	}
	close(block)
	for deadline := time.Now().Add(5 * time.Second); w.Healthy() != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Healthy() = %v after the database answered", w.Healthy())
		}
	}
	if err := closeWriter(t, w, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := storedIDs(t, store.Store); len(got) != 3 {
		t.Errorf("stored %v, want the 3 acknowledged records", got)
	}
}

// TestJournalOutlivesAStoreOutage: while the store fails, sync writes are
// still acknowledged (they are durable in the journal) up to the backlog
// bound, beyond which writes are refused; a Close during the outage keeps
// the records in the journal, and the next writer indexes them first, in
// order, before its own.
func TestJournalOutlivesAStoreOutage(t *testing.T) {
	b := sqlstoretest.Backends()[0] // SQLite: the store logic is the conformance suite's
	b.Require(t)
	dir := t.TempDir()
	store := &journalStore{Store: b.Open(t)}
	store.fail(errors.New("database is down"))
	w := newJournaled(t, store, dir, audit.ModeSync, 30)
	first := ids("outage", 30)
	for _, id := range first {
		if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
			t.Fatalf("write %s during the outage: %v (the journal should take it)", id, err)
		}
	}
	err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: "beyond-bound"})
	if !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("write beyond the backlog bound: err %v, want ErrUnavailable", err)
	}
	for deadline := time.Now().Add(5 * time.Second); w.Healthy() == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Healthy() stays nil while the index fails")
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	if err := w.WaitIndexed(ctx); err == nil {
		t.Error("WaitIndexed returned nil while the store is down")
	}
	cancel()
	if err := closeWriter(t, w, 100*time.Millisecond); err != nil {
		t.Fatalf("close during the outage: %v (records are safe in the journal)", err)
	}
	if got := storedIDs(t, store.Store); len(got) != 0 {
		t.Fatalf("store holds %v during the outage", got)
	}

	store.fail(nil)
	w = newJournaled(t, store, dir, audit.ModeSync, 100)
	second := ids("after", 5)
	for _, id := range second {
		if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
			t.Fatalf("write %s after the outage: %v", id, err)
		}
	}
	if err := closeWriter(t, w, 10*time.Second); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got, want := storedIDs(t, store.Store), append(slices.Clone(first), second...); !slices.Equal(got, want) {
		t.Errorf("stored %v,\nwant %v", got, want)
	}
}

// TestJournalCommitReportedAsFailed: a commit that succeeded but reported
// an error is found out by the position check, and nothing is indexed
// twice.
func TestJournalCommitReportedAsFailed(t *testing.T) {
	b := sqlstoretest.Backends()[0]
	b.Require(t)
	store := &journalStore{Store: b.Open(t), lieOnce: true}
	w := newJournaled(t, store, t.TempDir(), audit.ModeSync, 0)
	want := ids("lie", 20)
	for _, id := range want {
		if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if err := closeWriter(t, w, 10*time.Second); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got := storedIDs(t, store.Store); !slices.Equal(got, want) {
		t.Errorf("stored %v, want each once in order %v", got, want)
	}
}

// TestJournalRefusesAForeignPosition: a store that claims more of the
// journal than it holds (an older copy of the journal directory restored)
// is refused at start instead of skipping or duplicating records.
func TestJournalRefusesAForeignPosition(t *testing.T) {
	b := sqlstoretest.Backends()[0]
	b.Require(t)
	store := b.Open(t)
	dir := t.TempDir()
	w := newJournaled(t, store, dir, audit.ModeSync, 0)
	if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: "one"}); err != nil {
		t.Fatal(err)
	}
	js, _ := w.Journal()
	if err := closeWriter(t, w, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := store.AppendAuditJournaled(t.Context(), js.ID, 1, 5, nil); err != nil {
		t.Fatal(err)
	}
	_, err := audit.NewWriter(audit.Config{Store: store, ChainID: "jchain", JournalDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("a writer started on a journal the store claims to have indexed beyond its end")
	}
}

// TestAsyncJournal: async writes go through the journal too and are all
// indexed by Close.
func TestAsyncJournal(t *testing.T) {
	b := sqlstoretest.Backends()[0]
	b.Require(t)
	store := b.Open(t)
	w := newJournaled(t, store, t.TempDir(), audit.ModeAsync, 0)
	want := ids("async", 100)
	for _, id := range want {
		if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := closeWriter(t, w, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := storedIDs(t, store); !slices.Equal(got, want) {
		t.Errorf("stored %d records, want %d in order", len(got), len(want))
	}
}
