package audit_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
)

// acks collects the decision ids the writer acknowledged.
type acks []string

func (a *acks) write(t *testing.T, w *audit.Writer, r storage.AuditRecord) error {
	t.Helper()
	err := w.Write(t.Context(), r)
	if err == nil {
		*a = append(*a, r.DecisionID)
	}
	return err
}

// unwrittenIDs returns the decision ids Unwritten reports for dir, and
// whether any of them is lost.
func unwrittenIDs(t *testing.T, dir string) (ids []string, lost bool) {
	t.Helper()
	un, err := audit.Unwritten(dir)
	if err != nil {
		t.Fatalf("unwritten: %v", err)
	}
	for _, u := range un {
		ids = append(ids, u.Record.DecisionID)
		lost = lost || u.Lost
	}
	return ids, lost
}

func closeNow(t *testing.T, w *audit.Writer) error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the shutdown deadline has passed
	return w.Close(ctx)
}

// With the store failing, async mode acknowledges records only while the
// oldest uncommitted one is within StallFactor × MaxDelay, then refuses
// (the decision path denies), and every acknowledged record survives Close.
func TestAsyncRefusesOnceTheStoreFailsTooLong(t *testing.T) {
	clock := newTestClock()
	store := newFakeStore()
	store.setFailing(errors.New("disk full"))
	dir := t.TempDir()
	const maxDelay = 10 * time.Millisecond
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, MaxDelay: maxDelay, Now: clock.Now, SpillDir: dir})
	bound := audit.DefaultStallFactor * maxDelay

	var acked acks
	if err := acked.write(t, w, rec(0)); err != nil {
		t.Fatalf("write before any failure: %v", err)
	}
	store.waitAttempts(t, 2) // the first attempt failed and was noted
	if w.Healthy() == nil {
		t.Fatal("Healthy() = nil while the store fails")
	}
	clock.Advance(bound)
	if err := acked.write(t, w, rec(1)); err != nil {
		t.Fatalf("write with the oldest record exactly at the bound: %v", err)
	}
	clock.Advance(time.Millisecond)
	for i := 2; i < 5; i++ {
		if err := acked.write(t, w, rec(i)); !errors.Is(err, audit.ErrUnavailable) {
			t.Fatalf("write %d past the bound: %v, want ErrUnavailable", i, err)
		}
	}
	if err := w.WriteBatch(t.Context(), []storage.AuditRecord{rec(5), rec(6)}); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("batch past the bound: %v, want ErrUnavailable", err)
	}
	if s := w.Stats(); s.Refused != 5 || s.Enqueued != 2 {
		t.Errorf("stats = %+v, want 5 refused and 2 enqueued", s)
	}

	if err := closeNow(t, w); err != nil {
		t.Fatalf("close with the store failing: %v (the records were spilled, none lost)", err)
	}
	if s := w.Stats(); s.Spilled != 2 || s.Lost != 0 || s.Committed != 0 {
		t.Errorf("stats after close = %+v, want 2 spilled, none lost", s)
	}
	ids, lost := unwrittenIDs(t, dir)
	if !slices.Equal(ids, acked) || lost {
		t.Errorf("unwritten = %v (lost %v), want exactly the acknowledged %v, spilled", ids, lost, acked)
	}
}

// A commit after the outage ends the refusals.
func TestAsyncAcceptsAgainAfterRecovery(t *testing.T) {
	clock := newTestClock()
	store := newFakeStore()
	store.setFailing(errors.New("connection refused"))
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, MaxDelay: time.Millisecond, Now: clock.Now})
	if err := w.Write(t.Context(), rec(0)); err != nil {
		t.Fatal(err)
	}
	store.waitAttempts(t, 2)
	clock.Advance(time.Hour)
	if err := w.Write(t.Context(), rec(1)); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("write during the outage: %v, want ErrUnavailable", err)
	}
	store.setFailing(nil)
	store.waitCommitted(t, 1)
	deadline := time.Now().Add(10 * time.Second)
	for w.Healthy() != nil { // the writer notes the commit right after the store returns
		if time.Now().After(deadline) {
			t.Fatal("writer still unhealthy after the store recovered")
		}
		time.Sleep(time.Millisecond)
	}
	if err := w.Write(t.Context(), rec(2)); err != nil {
		t.Fatalf("write after recovery: %v", err)
	}
	store.waitCommitted(t, 2)
	if got := store.decisionIDs(); !slices.Equal(got, []string{"dec-000", "dec-002"}) {
		t.Errorf("committed %v, want the acknowledged records only", got)
	}
}

// While the store fails, a full queue refuses at once instead of making
// each decision wait EnqueueTimeout.
func TestAsyncFullQueueWhileFailingRefusesAtOnce(t *testing.T) {
	store := newFakeStore()
	store.setFailing(errors.New("disk full"))
	dir := t.TempDir()
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, QueueSize: 2, MaxBatch: 1,
		EnqueueTimeout: time.Hour, Now: newTestClock().Now, SpillDir: dir})
	var acked acks
	if err := acked.write(t, w, rec(0)); err != nil {
		t.Fatal(err)
	}
	store.waitAttempts(t, 2)
	for i := 1; i <= 2; i++ {
		if err := acked.write(t, w, rec(i)); err != nil {
			t.Fatalf("write %d into free queue space: %v", i, err)
		}
	}
	err := acked.write(t, w, rec(3))
	if !errors.Is(err, audit.ErrQueueFull) || !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("write into a full queue of a failing store: %v, want ErrQueueFull and ErrUnavailable", err)
	}
	if err := closeNow(t, w); err != nil {
		t.Fatalf("close: %v", err)
	}
	if ids, _ := unwrittenIDs(t, dir); !slices.Equal(ids, acked) {
		t.Errorf("unwritten = %v, want the acknowledged %v", ids, acked)
	}
}

// Sync writers are never refused by the stall bound: each call already
// waits for its own commit and fails closed on its own.
func TestSyncIgnoresTheStallBound(t *testing.T) {
	clock := newTestClock()
	store := newFakeStore()
	store.setFailing(errors.New("disk full"))
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeSync, Now: clock.Now})
	if err := w.Write(t.Context(), rec(0)); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("sync write with the store down: %v", err)
	}
	clock.Advance(time.Hour)
	store.setFailing(nil)
	if err := w.Write(t.Context(), rec(1)); err != nil {
		t.Fatalf("sync write after recovery: %v", err)
	}
	if s := w.Stats(); s.Refused != 0 {
		t.Errorf("stats = %+v, want no refusals in sync mode", s)
	}
}
