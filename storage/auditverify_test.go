package storage_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// chain builds n correctly linked records on chainID starting at seq first
// with the given prev hash.
func chain(t testing.TB, chainID string, first int64, prev string, n int) []storage.AuditRecord {
	t.Helper()
	var out []storage.AuditRecord
	for i := range n {
		r := storage.AuditRecord{ChainID: chainID, Seq: first + int64(i), PrevHash: prev, Kind: storage.KindDecision,
			Time: time.Unix(1763700000+int64(i), 0).UTC(), DecisionID: fmt.Sprintf("d%d", i)}
		r.Hash = storage.ComputeAuditHash(r)
		prev = r.Hash
		out = append(out, r)
	}
	return out
}

func checkpointAfter(t testing.TB, tail storage.AuditRecord, throughSeq int64, throughHash string) storage.AuditRecord {
	t.Helper()
	detail, err := json.Marshal(storage.Checkpoint{DeletedThroughSeq: throughSeq, DeletedThroughHash: throughHash, Deleted: throughSeq})
	if err != nil {
		t.Fatal(err)
	}
	r := storage.AuditRecord{ChainID: tail.ChainID, Seq: tail.Seq + 1, PrevHash: tail.Hash, Kind: storage.KindCheckpoint,
		Time: tail.Time, Detail: detail}
	r.Hash = storage.ComputeAuditHash(r)
	return r
}

func TestChainVerifier(t *testing.T) {
	full := chain(t, "a", 1, "", 6)
	tests := []struct {
		name       string
		recs       func() []storage.AuditRecord
		wantSeq    int64
		wantReason string
	}{
		{"intact", func() []storage.AuditRecord { return full }, 0, ""},
		{"interleaved chains", func() []storage.AuditRecord {
			b := chain(t, "b", 1, "", 3)
			return []storage.AuditRecord{full[0], b[0], full[1], b[1], b[2], full[2]}
		}, 0, ""},
		{"edited", func() []storage.AuditRecord {
			recs := append([]storage.AuditRecord(nil), full...)
			recs[2].Outcome = "allow"
			return recs
		}, 3, "hash mismatch"},
		{"deleted", func() []storage.AuditRecord {
			return append(append([]storage.AuditRecord(nil), full[:2]...), full[3:]...)
		}, 4, "gap"},
		{"reordered", func() []storage.AuditRecord {
			return []storage.AuditRecord{full[0], full[2], full[1]}
		}, 3, "gap"},
		{"replaced link", func() []storage.AuditRecord {
			other := chain(t, "a", 1, "x", 3)
			return []storage.AuditRecord{full[0], other[1]}
		}, 2, "prev hash"},
		{"first record links to nothing", func() []storage.AuditRecord {
			return chain(t, "a", 1, "bogus", 2)
		}, 1, "inserted"},
		{"trimmed without checkpoint", func() []storage.AuditRecord { return full[3:] }, 4, "no checkpoint"},
		{"trimmed with checkpoint", func() []storage.AuditRecord {
			return append(append([]storage.AuditRecord(nil), full[3:]...), checkpointAfter(t, full[5], 3, full[2].Hash))
		}, 0, ""},
		{"checkpoint vouching for the wrong link", func() []storage.AuditRecord {
			return append(append([]storage.AuditRecord(nil), full[3:]...), checkpointAfter(t, full[5], 3, full[1].Hash))
		}, 4, "no checkpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := storage.NewChainVerifier()
			var first *storage.BrokenRecord
			for _, r := range tc.recs() {
				if b := v.Add(r); b != nil && first == nil {
					first = b
				}
			}
			if b := v.Finish(); first == nil {
				first = b
			}
			switch {
			case tc.wantReason == "" && first != nil:
				t.Fatalf("broken = %+v, want intact", first)
			case tc.wantReason == "":
			case first == nil:
				t.Fatalf("intact, want broken at %d (%s)", tc.wantSeq, tc.wantReason)
			case first.Seq != tc.wantSeq || !strings.Contains(first.Reason, tc.wantReason):
				t.Errorf("broken = %+v, want seq %d reason containing %q", first, tc.wantSeq, tc.wantReason)
			}
		})
	}
}
