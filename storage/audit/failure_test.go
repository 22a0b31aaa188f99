package audit_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage/audit"
)

func TestBackpressure(t *testing.T) {
	store := newFakeStore()
	store.setHold(true)
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, QueueSize: 2, MaxBatch: 1,
		MaxDelay: time.Millisecond, EnqueueTimeout: 5 * time.Millisecond})
	if err := w.Write(t.Context(), rec(0)); err != nil {
		t.Fatalf("write 0: %v", err)
	}
	waitEntered(t, store) // record 0 is in a blocked transaction
	for i := 1; i <= 2; i++ {
		if err := w.Write(t.Context(), rec(i)); err != nil {
			t.Fatalf("write %d into free queue space: %v", i, err)
		}
	}
	err := w.Write(t.Context(), rec(3))
	if !errors.Is(err, audit.ErrQueueFull) {
		t.Fatalf("write into a full queue: %v, want ErrQueueFull", err)
	}
	if s := w.Stats(); s.QueueFull != 1 || s.QueueDepth != 2 {
		t.Errorf("stats = %+v, want one refusal and 2 queued", s)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	if err := w.Write(canceled, rec(4)); !errors.Is(err, context.Canceled) {
		t.Errorf("write with a cancelled context into a full queue: %v", err)
	}
	store.setHold(false)
	store.release <- struct{}{}
	store.waitCommitted(t, 3)
	if got := store.decisionIDs(); !slices.Equal(got, []string{"dec-000", "dec-001", "dec-002"}) {
		t.Errorf("committed %v: refused records must not appear, accepted ones must", got)
	}
}

func TestSyncFailsClosedWhileStoreDown(t *testing.T) {
	store := newFakeStore()
	store.setFailing(errors.New("connection refused"))
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeSync})
	err := w.Write(t.Context(), rec(1))
	if !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("sync write with the store down: %v, want ErrUnavailable", err)
	}
	if w.Healthy() == nil {
		t.Errorf("Healthy() = nil while the store fails")
	}
	if s := w.Stats(); s.SyncFailed != 1 || s.Committed != 0 {
		t.Errorf("stats = %+v", s)
	}
	store.setFailing(nil)
	if err := w.Write(t.Context(), rec(2)); err != nil {
		t.Fatalf("sync write after recovery: %v", err)
	}
	if err := w.Healthy(); err != nil {
		t.Errorf("Healthy() after recovery = %v", err)
	}
	if got := store.decisionIDs(); !slices.Equal(got, []string{"dec-002"}) {
		t.Errorf("committed %v: the failed sync record must not be committed later", got)
	}
}

func TestAsyncRetriesUntilCommitted(t *testing.T) {
	store := newFakeStore()
	store.mu.Lock()
	store.failNext = 3
	store.mu.Unlock()
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, MaxDelay: time.Millisecond})
	for i := range 5 {
		if err := w.Write(t.Context(), rec(i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	store.waitCommitted(t, 5)
	want := []string{"dec-000", "dec-001", "dec-002", "dec-003", "dec-004"}
	if got := store.decisionIDs(); !slices.Equal(got, want) {
		t.Errorf("committed %v, want every record once, in order", got)
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if s := w.Stats(); s.FailedAttempts != 3 || s.Lost != 0 || s.Committed != 5 {
		t.Errorf("stats = %+v", s)
	}
}

func TestCloseDrains(t *testing.T) {
	for _, mode := range []string{audit.ModeSync, audit.ModeAsync} {
		t.Run(mode, func(t *testing.T) {
			store := newFakeStore()
			w := newWriter(t, audit.Config{Store: store, Mode: mode, MaxBatch: 7, MaxDelay: 2 * time.Hour})
			done := make(chan error, 100)
			for i := range 100 {
				go func() { done <- w.Write(t.Context(), rec(i)) }()
			}
			if mode == audit.ModeAsync {
				for range 100 {
					if err := <-done; err != nil {
						t.Fatalf("write: %v", err)
					}
				}
			}
			if err := w.Close(t.Context()); err != nil {
				t.Fatalf("close: %v", err)
			}
			if mode == audit.ModeSync {
				for range 100 {
					if err := <-done; err != nil && !errors.Is(err, audit.ErrClosed) {
						t.Fatalf("write: %v", err)
					}
				}
			}
			if got, enq := len(store.decisionIDs()), w.Stats().Enqueued; uint64(got) != enq {
				t.Errorf("committed %d of %d accepted records", got, enq)
			}
			if err := w.Write(t.Context(), rec(999)); !errors.Is(err, audit.ErrClosed) {
				t.Errorf("write after close: %v, want ErrClosed", err)
			}
		})
	}
}
