package audit_test

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage/audit"
)

// A sync commit waits while an announcement is outstanding, so records
// of concurrent decisions share one transaction; the release lets it go.
// (In the service a decision releases right before it writes; the writer
// may commit in that instant without it, which costs a shared commit, not
// a record. Here the second record is queued before the release, so the
// outcome does not depend on scheduling.)
func TestSyncBatchWaitsForAnnouncedRecord(t *testing.T) {
	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, SyncLinger: time.Minute})
	releaseLate := w.Announce()
	releaseFirst := w.Announce()
	releaseFirst()
	first := make(chan error, 1)
	go func() { first <- w.Write(t.Context(), rec(1)) }()
	// The first record is queued; the writer must hold it while the second
	// announcement is outstanding.
	waitFor(t, func() bool { return w.Stats().Enqueued == 1 })
	stillWaiting(t, first, "before the announced record arrived")
	second := make(chan error, 1)
	go func() { second <- w.Write(t.Context(), rec(2)) }()
	waitFor(t, func() bool { return w.Stats().Enqueued == 2 })
	stillWaiting(t, first, "while an announcement was outstanding")
	releaseLate()
	for _, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if s := w.Stats(); s.Batches != 1 || s.Committed != 2 {
		t.Errorf("stats %+v: want both records in one batch", s)
	}
}

// Without announcements a lone sync record commits at once, however long
// SyncLinger is; a released announcement (a decision that wrote nothing)
// no longer holds commits back, and releasing twice counts once.
func TestSyncRecordWithoutAnnouncementDoesNotWait(t *testing.T) {
	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, SyncLinger: time.Hour})
	if err := w.Write(t.Context(), rec(1)); err != nil {
		t.Fatalf("write: %v", err)
	}
	release := w.Announce()
	release()
	release()
	other := w.Announce()
	defer other()
	other()
	if err := w.Write(t.Context(), rec(2)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if s := w.Stats(); s.Batches != 2 || s.Committed != 2 {
		t.Errorf("stats %+v: want two separate commits", s)
	}
}

// The linger is bounded: an announced record that never comes delays a
// commit by at most SyncLinger.
func TestSyncLingerIsBounded(t *testing.T) {
	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, SyncLinger: 5 * time.Millisecond})
	release := w.Announce()
	defer release()
	for i := range 3 {
		if err := w.Write(t.Context(), rec(i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if s := w.Stats(); s.Committed != 3 {
		t.Errorf("stats %+v: want 3 committed", s)
	}
}

// Async writers ignore announcements.
func TestAsyncIgnoresAnnouncements(t *testing.T) {
	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeAsync, MaxDelay: 2 * time.Millisecond})
	release := w.Announce()
	defer release()
	if err := w.Write(t.Context(), rec(1)); err != nil {
		t.Fatalf("write: %v", err)
	}
	waitFor(t, func() bool { return w.Stats().Committed == 1 })
}

// stillWaiting fails if a sync write has returned within 20ms.
func stillWaiting(t *testing.T, done <-chan error, when string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("write returned (%v) %s", err, when)
	case <-time.After(20 * time.Millisecond):
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
