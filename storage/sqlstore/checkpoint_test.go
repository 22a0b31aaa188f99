package sqlstore_test

import (
	"testing"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// TestCheckpointWAL checks that CheckpointWAL succeeds on both backends and
// that appends and the chain stay correct around it.
func TestCheckpointWAL(t *testing.T) {
	for _, be := range sqlstoretest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			be.Require(t)
			s := be.Open(t)
			for i := range 3 {
				recs := []storage.AuditRecord{{ChainID: "c", Kind: storage.KindDecision, DecisionID: string(rune('a' + i))}}
				if err := s.AppendAudit(t.Context(), recs); err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
				if err := s.CheckpointWAL(t.Context()); err != nil {
					t.Fatalf("checkpoint %d: %v", i, err)
				}
			}
			rep, err := s.VerifyAudit(t.Context())
			if err != nil || !rep.OK || rep.Checked != 3 {
				t.Fatalf("verify after checkpoints: %+v, %v", rep, err)
			}
		})
	}
}
