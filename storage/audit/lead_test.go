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

// slowStore is a journal store that takes its time over every index
// commit: healthy, but slower than the decisions.
type slowStore struct {
	journalStore
	delay time.Duration
}

func (s *slowStore) AppendAuditJournaled(ctx context.Context, id string, from, through int64, recs []storage.AuditRecord) error {
	time.Sleep(s.delay)
	return s.journalStore.AppendAuditJournaled(ctx, id, from, through, recs)
}

func newLeadWriter(t *testing.T, store audit.Appender, mode string, lead, backlog int) *audit.Writer {
	t.Helper()
	w, err := audit.NewWriter(audit.Config{Store: store, ChainID: "jchain", Mode: mode, JournalDir: t.TempDir(),
		JournalBacklog: backlog, IndexLead: lead, IndexBatch: 4, MaxBatch: 4, IndexDelay: -1,
		MaxDelay: 2 * time.Millisecond, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("new writer: %v", err)
	}
	return w
}

// TestJournalRunsAtTheIndexingRate: async writers much faster than a
// healthy but slow store. The journal stays within IndexLead (plus the
// batch being journaled) of the index, because the writer waits for the
// indexer, and no write is refused: without that wait the backlog would
// fill up to its bound and decisions would be denied under a load the
// store could have absorbed at its own pace.
func TestJournalRunsAtTheIndexingRate(t *testing.T) {
	b := sqlstoretest.Backends()[0]
	b.Require(t)
	store := &slowStore{journalStore: journalStore{Store: b.Open(t)}, delay: 10 * time.Millisecond}
	const lead, backlog, n = 8, 1000, 200
	w := newLeadWriter(t, store, audit.ModeAsync, lead, backlog)

	stop := make(chan struct{})
	var maxBacklog, maxMemory int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			js, _ := w.Journal()
			maxBacklog = max(maxBacklog, js.Backlog)
			maxMemory = max(maxMemory, int64(audit.PendingInMemory(w)))
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	})
	want := ids("lead", n)
	for _, id := range want {
		if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
			t.Fatalf("write %s: %v (a healthy store must slow the writer down, not make it refuse)", id, err)
		}
	}
	if err := closeWriter(t, w, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	st := w.Stats()
	// The queue (QueueSize) still absorbs bursts; the journal's lead over
	// the index is what is bounded.
	if bound := int64(lead + 4); maxBacklog > bound {
		t.Errorf("the journal ran %d records ahead of a healthy store, want at most %d (IndexLead + one batch)", maxBacklog, bound)
	}
	if maxMemory > lead+4 {
		t.Errorf("the indexer held %d records in memory, want at most IndexLead + MaxBatch = %d", maxMemory, lead+4)
	}
	if st.Throttled == 0 || st.Refused != 0 {
		t.Errorf("stats: throttled %s, refused %d; want the writer to have waited and nothing refused", st.Throttled, st.Refused)
	}
	if got := storedIDs(t, store.Store); !slices.Equal(got, want) {
		t.Errorf("stored %d records, want all %d in order", len(got), len(want))
	}
}

// TestJournalRunsAheadOfAFailingStore: while the store fails, the writer
// does not wait for the indexer (the journal exists to ride out the
// outage): sync writes are acknowledged beyond IndexLead up to the backlog
// bound. The records beyond what the indexer keeps in memory are read back
// from the journal when the store recovers, and all of them are indexed
// once, in order.
func TestJournalRunsAheadOfAFailingStore(t *testing.T) {
	b := sqlstoretest.Backends()[0]
	b.Require(t)
	store := &journalStore{Store: b.Open(t)}
	store.fail(errors.New("database is down"))
	const lead, backlog = 4, 60
	w := newLeadWriter(t, store, audit.ModeSync, lead, backlog)
	want := ids("outage", backlog)
	var wg sync.WaitGroup
	errs := make(chan error, len(want))
	for i := range 6 { // concurrent callers share journal batches
		wg.Go(func() {
			for _, id := range want[i*10 : i*10+10] {
				errs <- w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("write during the outage: %v (the journal should take it)", err)
		}
	}
	if st := w.Stats(); st.Throttled >= time.Second {
		t.Errorf("the writer waited %s for a failing store; it must run ahead", st.Throttled)
	}
	if m := audit.PendingInMemory(w); m > lead+4 {
		t.Errorf("%d records held in memory during the outage, want at most IndexLead + MaxBatch = %d", m, lead+4)
	}
	if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: "beyond"}); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("write beyond the backlog bound: %v, want ErrUnavailable", err)
	}

	store.fail(nil)
	for deadline := time.Now().Add(5 * time.Second); w.Healthy() != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Healthy() = %v after the database recovered", w.Healthy())
		}
	}
	after := ids("after", 10)
	for _, id := range after {
		if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
			t.Fatalf("write %s after the outage: %v", id, err)
		}
	}
	if err := w.WaitIndexed(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := closeWriter(t, w, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	got := storedIDs(t, store.Store)
	slices.Sort(got[:backlog]) // concurrent callers: journal order among them is theirs
	if !slices.Equal(got, append(slices.Clone(want), after...)) {
		t.Errorf("stored %v,\nwant each of %d outage records once, then %v in order", got, backlog, after)
	}
}

// lossyIndexStore fails every third index commit, some of them after
// committing (a connection lost at commit).
type lossyIndexStore struct {
	journalStore
	mu    sync.Mutex
	calls int
}

func (s *lossyIndexStore) AppendAuditJournaled(ctx context.Context, id string, from, through int64, recs []storage.AuditRecord) error {
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.mu.Unlock()
	switch n % 6 {
	case 2:
		return errors.New("connection refused")
	case 5:
		if err := s.journalStore.AppendAuditJournaled(ctx, id, from, through, recs); err != nil {
			return err
		}
		return errors.New("connection reset by peer (after the commit)")
	}
	return s.journalStore.AppendAuditJournaled(ctx, id, from, through, recs)
}

// TestJournalHandOverUnderAFlakyStore: concurrent writers, a store that
// fails often, and an IndexLead so small that records keep moving between
// memory and the journal files: every acknowledged record is indexed
// exactly once, in journal order, and the chain verifies.
func TestJournalHandOverUnderAFlakyStore(t *testing.T) {
	b := sqlstoretest.Backends()[0]
	b.Require(t)
	store := &lossyIndexStore{journalStore: journalStore{Store: b.Open(t)}}
	w := newLeadWriter(t, store, audit.ModeSync, 3, 10_000)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []string
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				id := fmt.Sprintf("g%d-%03d", g, i)
				if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
					t.Errorf("write %s: %v", id, err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := closeWriter(t, w, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	got := storedIDs(t, store.Store)
	if len(got) != len(acked) {
		t.Fatalf("stored %d records, acknowledged %d", len(got), len(acked))
	}
	// Each writer's records are in its own order; together, each once.
	seen := map[string]bool{}
	next := map[byte]int{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("%s stored twice", id)
		}
		seen[id] = true
		var g byte
		var i int
		if _, err := fmt.Sscanf(id, "g%c-%03d", &g, &i); err != nil || i != next[g] {
			t.Fatalf("record %s out of its writer's order (want %d)", id, next[g])
		}
		next[g]++
	}
}
