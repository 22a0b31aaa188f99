package storage

import (
	"encoding/json"
	"fmt"
	"sort"
)

// ChainVerifier checks audit records against their hash chains. Feed it every
// record with Add, each chain in ascending Seq order (chains may interleave),
// then call Finish. It needs only the records, so an auditor can run it over
// an export (ExportAudit with ChainOrder) without database access.
//
// It detects an edited record (hash mismatch), a deleted record (sequence
// gap, or a chain whose first record is not seq 1 and is not vouched for by a
// retention checkpoint) and an inserted or reordered record (prev-hash link
// mismatch). Deleting the newest records of a chain is only detectable against
// the chain heads the store keeps, which Store.VerifyAudit also checks.
type ChainVerifier struct {
	chains  map[string]*chainState
	checked int64
}

type chainState struct {
	first    AuditRecord
	last     AuditRecord
	anchored bool
}

// ChainHead is the last record seen on a chain.
type ChainHead struct {
	Seq  int64
	Hash string
}

// NewChainVerifier returns an empty verifier.
func NewChainVerifier() *ChainVerifier {
	return &ChainVerifier{chains: map[string]*chainState{}}
}

// Add checks r against its chain and returns the defect it shows, or nil.
// Verification continues after a defect so later ones are found too.
func (v *ChainVerifier) Add(r AuditRecord) *BrokenRecord {
	v.checked++
	linkErr := v.link(r)
	if got := ComputeAuditHash(r); got != r.Hash {
		return recordRef(r, fmt.Sprintf("content hash mismatch: stored %q, computed %q (record edited)", r.Hash, got))
	}
	return linkErr
}

// link checks r's place in its chain and advances the chain to r.
func (v *ChainVerifier) link(r AuditRecord) *BrokenRecord {
	st, seen := v.chains[r.ChainID]
	if !seen {
		st = &chainState{first: r, last: r, anchored: r.Seq == 1}
		v.chains[r.ChainID] = st
		if r.Seq == 1 && r.PrevHash != "" {
			return recordRef(r, "first record of the chain links to a previous hash (record inserted)")
		}
		return v.checkpoint(st, r)
	}
	prev := st.last
	st.last = r
	switch {
	case r.Seq <= prev.Seq:
		return recordRef(r, fmt.Sprintf("sequence %d does not follow %d (records out of order or duplicated)", r.Seq, prev.Seq))
	case r.Seq != prev.Seq+1:
		return recordRef(r, fmt.Sprintf("sequence gap: records %d..%d are missing (deleted)", prev.Seq+1, r.Seq-1))
	case r.PrevHash != prev.Hash:
		return recordRef(r, fmt.Sprintf("prev hash does not match record %d (record inserted or replaced)", prev.Seq))
	}
	return v.checkpoint(st, r)
}

// checkpoint lets a retention checkpoint vouch for a chain that no longer
// starts at seq 1.
func (v *ChainVerifier) checkpoint(st *chainState, r AuditRecord) *BrokenRecord {
	if r.Kind != KindCheckpoint {
		return nil
	}
	var cp Checkpoint
	if err := json.Unmarshal(r.Detail, &cp); err != nil {
		return recordRef(r, fmt.Sprintf("checkpoint detail is not valid JSON: %v", err))
	}
	if cp.DeletedThroughSeq == st.first.Seq-1 && cp.DeletedThroughHash == st.first.PrevHash {
		st.anchored = true
	}
	return nil
}

// Finish reports chains whose start is not vouched for (records deleted from
// the beginning without a retention checkpoint), in chain id order.
func (v *ChainVerifier) Finish() *BrokenRecord {
	ids := make([]string, 0, len(v.chains))
	for id := range v.chains {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		st := v.chains[id]
		if !st.anchored {
			return recordRef(st.first, fmt.Sprintf("chain starts at sequence %d and no checkpoint vouches for records 1..%d (deleted)", st.first.Seq, st.first.Seq-1))
		}
	}
	return nil
}

// Checked returns how many records were added.
func (v *ChainVerifier) Checked() int64 { return v.checked }

// Heads returns the last record seen on every chain.
func (v *ChainVerifier) Heads() map[string]ChainHead {
	heads := make(map[string]ChainHead, len(v.chains))
	for id, st := range v.chains {
		heads[id] = ChainHead{Seq: st.last.Seq, Hash: st.last.Hash}
	}
	return heads
}

func recordRef(r AuditRecord, reason string) *BrokenRecord {
	return &BrokenRecord{ChainID: r.ChainID, Seq: r.Seq, ID: r.ID, DecisionID: r.DecisionID, Reason: reason}
}
