package audit_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage/audit"
)

// TestStatsLastCommit: the dashboard's "last commit" is the writer's
// clock at the latest committed batch, zero before any.
func TestStatsLastCommit(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	store := newFakeStore()
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeSync, MaxDelay: time.Millisecond, Now: clock})
	if got := w.Stats().LastCommit; !got.IsZero() {
		t.Fatalf("last commit before any write = %v, want zero", got)
	}
	if err := w.Write(t.Context(), rec(1)); err != nil {
		t.Fatal(err)
	}
	first := clock()
	if got := w.Stats().LastCommit; !got.Equal(first) {
		t.Errorf("last commit = %v, want %v", got, first)
	}
	now.Add(int64(90 * time.Second))
	if err := w.Write(t.Context(), rec(2)); err != nil {
		t.Fatal(err)
	}
	if got := w.Stats().LastCommit; !got.Equal(first.Add(90 * time.Second)) {
		t.Errorf("last commit after a second write = %v, want 90 s later", got)
	}
}
