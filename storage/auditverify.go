package storage

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
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
	// anchors are the signed positions to check (Anchor); nil when none.
	anchors Anchors
}

type chainState struct {
	first    AuditRecord
	last     AuditRecord
	anchored bool
	// points are the chain's signed positions; next indexes the first
	// one not yet reached by the walk, and signedThrough is the highest
	// Seq a point vouched for.
	points        []AnchorPoint
	next          int
	signedThrough int64
}

// ChainHead is the last record of a chain.
type ChainHead struct {
	ChainID string `json:"chain_id"`
	Seq     int64  `json:"seq"`
	Hash    string `json:"hash"`
}

// NewChainVerifier returns an empty verifier.
func NewChainVerifier() *ChainVerifier {
	return &ChainVerifier{chains: map[string]*chainState{}}
}

// Anchor makes the verifier check the walk against signed chain positions:
// each record at an anchored Seq must carry the signed hash, and Finish
// reports anchored records and chains that are missing. Call it before the
// first Add. Points need not be sorted; a is not modified.
func (v *ChainVerifier) Anchor(a Anchors) {
	v.anchors = make(Anchors, len(a))
	for id, pts := range a {
		sorted := slices.Clone(pts)
		slices.SortFunc(sorted, func(x, y AnchorPoint) int { return cmp.Compare(x.Seq, y.Seq) })
		v.anchors[id] = sorted
	}
}

// Add checks r against its chain and returns the defect it shows, or nil.
// Verification continues after a defect so later ones are found too.
func (v *ChainVerifier) Add(r AuditRecord) *BrokenRecord {
	v.checked++
	linkErr := v.link(r)
	if got := ComputeAuditHash(r); got != r.Hash {
		return recordRef(r, fmt.Sprintf("content hash mismatch: stored %q, computed %q (record edited)", r.Hash, got))
	}
	if linkErr != nil {
		return linkErr
	}
	return v.checkAnchor(v.chains[r.ChainID], r)
}

// checkAnchor compares r with the signed position at its Seq, if any. A
// record that hashes correctly and links correctly but differs from what
// was signed has been rewritten together with everything after it.
func (v *ChainVerifier) checkAnchor(st *chainState, r AuditRecord) *BrokenRecord {
	for st.next < len(st.points) && st.points[st.next].Seq < r.Seq {
		p := st.points[st.next]
		st.next++
		// A point below the chain's first stored record was removed by
		// retention (judged in Finish); the one right below it is the
		// record the first one links to.
		if p.Seq == st.first.Seq-1 && p.Hash != st.first.PrevHash {
			return recordRef(st.first, fmt.Sprintf("links to hash %q but the checkpoint signed at %s has %q for sequence %d (chain rewritten)",
				st.first.PrevHash, p.Time.UTC().Format(time.RFC3339), p.Hash, p.Seq))
		}
	}
	if st.next < len(st.points) && st.points[st.next].Seq == r.Seq {
		p := st.points[st.next]
		st.next++
		if p.Hash != r.Hash {
			from := max(st.signedThrough+1, st.first.Seq)
			return recordRef(r, fmt.Sprintf("hash %q differs from %q in the checkpoint signed at %s: a record among %d..%d was rewritten (and every hash after it recomputed)",
				r.Hash, p.Hash, p.Time.UTC().Format(time.RFC3339), from, r.Seq))
		}
		st.signedThrough = r.Seq
	}
	return nil
}

// link checks r's place in its chain and advances the chain to r.
func (v *ChainVerifier) link(r AuditRecord) *BrokenRecord {
	st, seen := v.chains[r.ChainID]
	if !seen {
		st = &chainState{first: r, last: r, anchored: r.Seq == 1, points: v.anchors[r.ChainID]}
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
// the beginning without a retention checkpoint) and, when anchored, signed
// records or whole chains that are gone, in chain id order.
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
		if n := len(st.points); n > 0 && st.points[n-1].Seq > st.last.Seq {
			p := st.points[n-1]
			return &BrokenRecord{ChainID: id, Seq: st.last.Seq + 1, Reason: fmt.Sprintf(
				"records %d..%d were signed in the checkpoint of %s but are missing (deleted)",
				st.last.Seq+1, p.Seq, p.Time.UTC().Format(time.RFC3339))}
		}
	}
	missing := make([]string, 0)
	for id, pts := range v.anchors {
		if _, seen := v.chains[id]; !seen && len(pts) > 0 {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		p := v.anchors[missing[0]][len(v.anchors[missing[0]])-1]
		return &BrokenRecord{ChainID: missing[0], Seq: 1, Reason: fmt.Sprintf(
			"the chain was signed through sequence %d in the checkpoint of %s but has no records (chain deleted)",
			p.Seq, p.Time.UTC().Format(time.RFC3339))}
	}
	return nil
}

// Unanchored lists, in chain id order, the records after each chain's last
// signed position (every record of a chain no checkpoint names). It is
// only meaningful after Anchor.
func (v *ChainVerifier) Unanchored() []ChainRange {
	var out []ChainRange
	for id, st := range v.chains {
		from := max(st.signedThrough+1, st.first.Seq)
		if st.last.Seq >= from {
			out = append(out, ChainRange{ChainID: id, FromSeq: from, ToSeq: st.last.Seq})
		}
	}
	slices.SortFunc(out, func(a, b ChainRange) int { return strings.Compare(a.ChainID, b.ChainID) })
	return out
}

// Checked returns how many records were added.
func (v *ChainVerifier) Checked() int64 { return v.checked }

// Heads returns the last record seen on every chain.
func (v *ChainVerifier) Heads() map[string]ChainHead {
	heads := make(map[string]ChainHead, len(v.chains))
	for id, st := range v.chains {
		heads[id] = ChainHead{ChainID: id, Seq: st.last.Seq, Hash: st.last.Hash}
	}
	return heads
}

func recordRef(r AuditRecord, reason string) *BrokenRecord {
	return &BrokenRecord{ChainID: r.ChainID, Seq: r.Seq, ID: r.ID, DecisionID: r.DecisionID, Reason: reason}
}
