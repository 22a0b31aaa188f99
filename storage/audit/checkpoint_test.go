package audit_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stepgate/stepgate/storage/audit"
)

// checkpointingStore is a fakeStore with a write-ahead log to checkpoint.
type checkpointingStore struct {
	*fakeStore
	checkpoints atomic.Int64
	called      chan struct{}
}

func (c *checkpointingStore) CheckpointWAL(context.Context) error {
	c.checkpoints.Add(1)
	c.called <- struct{}{}
	return nil
}

func TestCheckpointsBesideTheCommitLoop(t *testing.T) {
	tests := []struct {
		name    string
		batches int
		want    int64
	}{
		{"fewer batches than the interval", 5, 0},
		{"one interval of batches", 32, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &checkpointingStore{fakeStore: newFakeStore(), called: make(chan struct{}, 100)}
			w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeSync})
			for i := range tc.batches {
				if err := w.Write(t.Context(), rec(i)); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
			for range tc.want {
				<-store.called
			}
			if err := w.Close(t.Context()); err != nil {
				t.Fatalf("close: %v", err)
			}
			// Close waited for the checkpointer, so the count is final.
			if got := store.checkpoints.Load(); got != tc.want {
				t.Errorf("%d checkpoints after %d batches, want %d", got, tc.batches, tc.want)
			}
		})
	}
}
