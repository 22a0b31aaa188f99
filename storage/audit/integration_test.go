package audit_test

import (
	"context"
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

// TestReplicasShareOneStore runs two writers with different chain ids (two
// replicas) against one real database under concurrent load, closes them,
// and checks that every acknowledged decision is stored and both chains verify.
func TestReplicasShareOneStore(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			store := b.Open(t)
			modes := map[string]string{"replica-a": audit.ModeSync, "replica-b": audit.ModeAsync}
			var acked sync.Map
			var wg sync.WaitGroup
			for chain, mode := range modes {
				w, err := audit.NewWriter(audit.Config{Store: store, ChainID: chain, Mode: mode,
					MaxDelay: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatalf("new writer: %v", err)
				}
				var clients sync.WaitGroup
				for c := range 8 {
					clients.Go(func() {
						for i := range 40 {
							id := fmt.Sprintf("%s-%d-%d", chain, c, i)
							if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: id}); err != nil {
								t.Errorf("write %s: %v", id, err)
								continue
							}
							acked.Store(id, true)
						}
					})
				}
				wg.Go(func() {
					clients.Wait()
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					if err := w.Close(ctx); err != nil {
						t.Errorf("close %s: %v", chain, err)
					}
				})
			}
			wg.Wait()
			stored := map[string]bool{}
			if err := store.ExportAudit(t.Context(), storage.AuditQuery{}, func(r storage.AuditRecord) error {
				stored[r.DecisionID] = true
				return nil
			}); err != nil {
				t.Fatalf("export: %v", err)
			}
			acked.Range(func(k, _ any) bool {
				if !stored[k.(string)] {
					t.Errorf("acknowledged decision %s is missing from the trail", k)
				}
				return true
			})
			if len(stored) != 2*8*40 {
				t.Errorf("trail holds %d decisions, want %d", len(stored), 2*8*40)
			}
			rep, err := store.VerifyAudit(t.Context())
			if err != nil || !rep.OK || rep.Chains != 2 {
				t.Errorf("verify = %+v (%+v), %v", rep, rep.FirstBroken, err)
			}
		})
	}
}

// TestSpilledRecordsReplayIntoARealStore spills records while the store
// fails and replays them into a real database, where the chain verifies.
func TestSpilledRecordsReplayIntoARealStore(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			dir := t.TempDir()
			chain := "spill-" + b.Name
			acked := spillRecords(t, dir, chain, 12)
			store := b.Open(t)
			w, err := audit.NewWriter(audit.Config{Store: store, ChainID: chain, SpillDir: dir, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(t.Context()); err != nil {
				t.Fatalf("close: %v", err)
			}
			stored := make([]string, len(acked))
			if err := store.ExportAudit(t.Context(), storage.AuditQuery{}, func(r storage.AuditRecord) error {
				if r.ChainID == chain && r.Seq >= 1 && int(r.Seq) <= len(stored) {
					stored[r.Seq-1] = r.DecisionID
				}
				return nil
			}); err != nil {
				t.Fatalf("export: %v", err)
			}
			if !slices.Equal(stored, acked) {
				t.Errorf("stored by seq %v, want the spilled records in order %v", stored, acked)
			}
			rep, err := store.VerifyAudit(t.Context())
			if err != nil || !rep.OK {
				t.Errorf("verify = %+v, %v", rep, err)
			}
		})
	}
}
