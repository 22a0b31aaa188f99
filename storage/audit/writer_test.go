package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
)

func rec(i int) storage.AuditRecord {
	return storage.AuditRecord{Kind: storage.KindDecision, DecisionID: fmt.Sprintf("dec-%03d", i)}
}

func newWriter(t testing.TB, cfg audit.Config) *audit.Writer {
	t.Helper()
	if cfg.ChainID == "" {
		cfg.ChainID = "test-chain"
	}
	cfg.RetryMin, cfg.RetryMax = time.Millisecond, 4*time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)
	w, err := audit.NewWriter(cfg)
	if err != nil {
		t.Fatalf("new writer: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.Close(ctx)
	})
	return w
}

func TestNewWriterValidates(t *testing.T) {
	store := newFakeStore()
	tests := []struct {
		name string
		cfg  audit.Config
	}{
		{"no store", audit.Config{ChainID: "c"}},
		{"no chain", audit.Config{Store: store}},
		{"bad mode", audit.Config{Store: store, ChainID: "c", Mode: "eventually"}},
		{"negative queue", audit.Config{Store: store, ChainID: "c", QueueSize: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := audit.NewWriter(tc.cfg); err == nil {
				t.Errorf("NewWriter accepted %+v", tc.cfg)
			}
		})
	}
}

func TestWriteStampsRecords(t *testing.T) {
	store := newFakeStore()
	now := time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)
	w := newWriter(t, audit.Config{Store: store, ChainID: "replica-7", Now: func() time.Time { return now }})
	r := rec(1)
	r.ChainID = "spoofed"
	if err := w.Write(t.Context(), r); err != nil {
		t.Fatalf("write: %v", err)
	}
	given := rec(2)
	given.Time = now.Add(-time.Hour)
	if err := w.Write(t.Context(), given); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Write(t.Context(), storage.AuditRecord{}); !errors.Is(err, audit.ErrInvalidRecord) {
		t.Errorf("write without kind: %v, want ErrInvalidRecord", err)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if got := store.committed[0]; got.ChainID != "replica-7" || !got.Time.Equal(now) {
		t.Errorf("stamped record = %+v, want chain replica-7 at %v", got, now)
	}
	if got := store.committed[1]; !got.Time.Equal(now.Add(-time.Hour)) {
		t.Errorf("a given time was replaced: %v", got.Time)
	}
}

func TestSyncWaitsForCommit(t *testing.T) {
	store := newFakeStore()
	store.setHold(true)
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeSync})
	result := make(chan error, 1)
	go func() { result <- w.Write(t.Context(), rec(1)) }()
	waitEntered(t, store)
	select {
	case err := <-result:
		t.Fatalf("sync Write returned (%v) while its transaction was still open", err)
	default:
	}
	store.release <- struct{}{}
	if err := <-result; err != nil {
		t.Fatalf("write: %v", err)
	}
	if got := store.decisionIDs(); !slices.Equal(got, []string{"dec-001"}) {
		t.Errorf("committed %v", got)
	}
}

func TestAsyncReturnsBeforeCommit(t *testing.T) {
	store := newFakeStore()
	store.setHold(true)
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, MaxDelay: time.Millisecond})
	if err := w.Write(t.Context(), rec(1)); err != nil {
		t.Fatalf("async write: %v", err)
	}
	// Write returned although the store has not even been entered yet or is
	// blocked in it; the commit completes on its own once released.
	waitEntered(t, store)
	store.release <- struct{}{}
	store.waitCommitted(t, 1)
}

// TestAsyncCommitsWithoutClose proves the linger timer, not Close, flushes
// a lone record.
func TestAsyncCommitsWithoutClose(t *testing.T) {
	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, MaxDelay: 10 * time.Millisecond})
	if err := w.Write(t.Context(), rec(1)); err != nil {
		t.Fatalf("async write: %v", err)
	}
	store.waitCommitted(t, 1)
	if err := w.Close(t.Context()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if s := w.Stats(); s.Committed != 1 || s.Batches != 1 || s.QueueDepth != 0 {
		t.Errorf("stats = %+v", s)
	}
}

// TestAsyncFullBatchDoesNotLinger: with an hour of linger, a full batch
// still commits at once.
func TestAsyncFullBatchDoesNotLinger(t *testing.T) {
	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, MaxBatch: 3, MaxDelay: 2 * time.Hour})
	for i := range 3 {
		if err := w.Write(t.Context(), rec(i)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	store.waitCommitted(t, 3)
	if got := store.batchSizes(); !slices.Equal(got, []int{3}) {
		t.Errorf("batches = %v, want one of 3", got)
	}
}

func TestGroupCommit(t *testing.T) {
	for _, mode := range []string{audit.ModeSync, audit.ModeAsync} {
		t.Run(mode, func(t *testing.T) {
			store := newFakeStore()
			store.setHold(true)
			w := newWriter(t, audit.Config{Store: store, Mode: mode, MaxBatch: 100, MaxDelay: time.Millisecond})
			var wg sync.WaitGroup
			wg.Go(func() { _ = w.Write(t.Context(), rec(0)) })
			waitEntered(t, store) // the first batch is in its transaction
			for i := 1; i <= 20; i++ {
				wg.Go(func() { _ = w.Write(t.Context(), rec(i)) })
			}
			for w.Stats().QueueDepth < 20 {
				runtime.Gosched() // let the writers reach the queue
			}
			store.setHold(false)
			store.release <- struct{}{}
			wg.Wait()
			store.waitCommitted(t, 21)
			if got := store.batchSizes(); !slices.Equal(got, []int{1, 20}) {
				t.Errorf("batches = %v, want [1 20]: queued records share one transaction", got)
			}
		})
	}
}
