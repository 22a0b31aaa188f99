package audit_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
)

func TestWriteBatch(t *testing.T) {
	now := time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		mode    string
		failing error
		recs    []storage.AuditRecord
		wantErr error
		wantIDs []string
	}{
		{name: "sync commits all", mode: audit.ModeSync, recs: []storage.AuditRecord{rec(1), rec(2), rec(3)},
			wantIDs: []string{"dec-001", "dec-002", "dec-003"}},
		{name: "async queues all", mode: audit.ModeAsync, recs: []storage.AuditRecord{rec(1), rec(2)},
			wantIDs: []string{"dec-001", "dec-002"}},
		{name: "empty batch", mode: audit.ModeSync},
		{name: "invalid record rejects the whole batch", mode: audit.ModeSync,
			recs: []storage.AuditRecord{rec(1), {DecisionID: "no-kind"}}, wantErr: audit.ErrInvalidRecord},
		{name: "sync fails closed while the store is down", mode: audit.ModeSync, failing: errors.New("connection refused"),
			recs: []storage.AuditRecord{rec(1), rec(2)}, wantErr: audit.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			store.setFailing(tc.failing)
			w := newWriter(t, audit.Config{Store: store, Mode: tc.mode, ChainID: "replica-1",
				Now: func() time.Time { return now }})
			err := w.WriteBatch(t.Context(), tc.recs)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("WriteBatch: %v, want %v", err, tc.wantErr)
			}
			store.waitCommitted(t, len(tc.wantIDs))
			if got := store.decisionIDs(); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("committed %v, want %v", got, tc.wantIDs)
			}
			store.mu.Lock()
			defer store.mu.Unlock()
			for _, r := range store.committed {
				if r.ChainID != "replica-1" || !r.Time.Equal(now) {
					t.Errorf("record %s: chain %q time %v, want replica-1 and %v", r.DecisionID, r.ChainID, r.Time, now)
				}
			}
		})
	}
}

func TestWriteBatchSyncWaitsForCommit(t *testing.T) {
	store := newFakeStore()
	store.setHold(true)
	w := newWriter(t, audit.Config{Store: store, Mode: audit.ModeSync})
	result := make(chan error, 1)
	go func() { result <- w.WriteBatch(t.Context(), []storage.AuditRecord{rec(1), rec(2)}) }()
	entered := len(waitEntered(t, store))
	select {
	case err := <-result:
		t.Fatalf("sync WriteBatch returned (%v) while a transaction was still open", err)
	default:
	}
	store.release <- struct{}{}
	if entered < 2 {
		// The second record missed the first transaction; let the next one finish.
		waitEntered(t, store)
		store.release <- struct{}{}
	}
	if err := <-result; err != nil {
		t.Fatalf("write batch: %v", err)
	}
	if got := store.decisionIDs(); !slices.Equal(got, []string{"dec-001", "dec-002"}) {
		t.Errorf("committed %v", got)
	}
}
