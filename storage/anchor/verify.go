package anchor

import (
	"cmp"
	"crypto/ed25519"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// Result is what a set of checkpoints proves.
type Result struct {
	// Checkpoints counts the checkpoints read; Signers names who signed.
	Checkpoints int
	Signers     []string
	// Anchors are the signed chain positions, for storage's verifier.
	Anchors storage.Anchors
	// Problems are defects of the checkpoints themselves (a bad signature,
	// a line removed from the middle, a chain that went back or vanished);
	// any problem means the trail cannot be trusted as intact.
	Problems []string
	// Warnings do not break the trail (an append cut short by a crash).
	Warnings []string
}

// OK reports whether the checkpoints have no problems.
func (r *Result) OK() bool { return len(r.Problems) == 0 }

// Check verifies checkpoints with pub and collects their anchors. It
// checks, in the order given (a witness file's order):
//   - every signature, with pub;
//   - per signer, that each checkpoint names the previous one (Prev), so
//     lines removed from the middle of a witness are noticed, and that
//     time does not go back;
//   - per chain, that signed positions never go back and that one sequence
//     is never signed with two hashes;
//   - that a chain, once signed, is in every later checkpoint of the same
//     signer (chains are never deleted, only trimmed by retention).
//
// Checkpoints that fail a check add a problem and no anchors.
func Check(cps []Located, pub ed25519.PublicKey) Result {
	res := Result{Anchors: storage.Anchors{}}
	type signerState struct {
		last   *Located
		digest string
	}
	signers := map[string]*signerState{}
	type chainState struct {
		seq  int64
		hash string
		at   *Located
	}
	// chains is per signer and chain: one signer's checkpoints are in its
	// own time order, which different signers' clocks need not share.
	chains := map[[2]string]*chainState{}
	for i := range cps {
		c := &cps[i]
		res.Checkpoints++
		where := fmt.Sprintf("%s:%d", c.Source, c.Line)
		if err := c.Verify(pub); err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("%s: checkpoint of %s by %q: %v", where, c.Time.UTC().Format("2006-01-02T15:04:05Z"), c.Signer, err))
			continue
		}
		key := c.Source + "\x00" + c.Signer
		st := signers[key]
		if st == nil {
			st = &signerState{}
			signers[key] = st
			if !slices.Contains(res.Signers, c.Signer) {
				res.Signers = append(res.Signers, c.Signer)
			}
		}
		if st.last != nil {
			if c.Prev != st.digest {
				res.Problems = append(res.Problems, fmt.Sprintf("%s: checkpoint by %q does not follow its previous one at line %d (checkpoints removed or reordered)",
					where, c.Signer, st.last.Line))
			}
			if c.Time.Before(st.last.Time) {
				res.Problems = append(res.Problems, fmt.Sprintf("%s: checkpoint by %q is dated before its previous one", where, c.Signer))
			}
			for _, h := range st.last.Chains {
				if _, ok := c.Head(h.ChainID); !ok {
					res.Problems = append(res.Problems, fmt.Sprintf("%s: chain %q, signed through sequence %d at line %d, is missing from this checkpoint (chain deleted)",
						where, h.ChainID, h.Seq, st.last.Line))
				}
			}
		}
		st.last, st.digest = c, c.Digest()
		for _, h := range c.Chains {
			ck := [2]string{key, h.ChainID}
			prev := chains[ck]
			switch {
			case prev == nil:
				chains[ck] = &chainState{seq: h.Seq, hash: h.Hash, at: c}
			case h.Seq < prev.seq:
				res.Problems = append(res.Problems, fmt.Sprintf("%s: chain %q went back from sequence %d (line %d) to %d (records deleted)",
					where, h.ChainID, prev.seq, prev.at.Line, h.Seq))
				continue
			case h.Seq == prev.seq:
				continue
			default:
				prev.seq, prev.hash, prev.at = h.Seq, h.Hash, c
			}
			res.Anchors[h.ChainID] = append(res.Anchors[h.ChainID], storage.AnchorPoint{Seq: h.Seq, Hash: h.Hash, Time: c.Time})
		}
	}
	// One position signed twice (by two signers, or the same one again)
	// must carry one hash.
	for id, pts := range res.Anchors {
		slices.SortStableFunc(pts, func(a, b storage.AnchorPoint) int { return cmp.Compare(a.Seq, b.Seq) })
		out := pts[:0]
		for _, p := range pts {
			if n := len(out); n > 0 && out[n-1].Seq == p.Seq {
				if out[n-1].Hash != p.Hash {
					res.Problems = append(res.Problems, fmt.Sprintf("chain %q sequence %d was signed with hash %q at %s and %q at %s (chain rewritten)",
						id, p.Seq, out[n-1].Hash, out[n-1].Time.UTC().Format(time.RFC3339), p.Hash, p.Time.UTC().Format(time.RFC3339)))
				}
				continue
			}
			out = append(out, p)
		}
		res.Anchors[id] = out
	}
	sort.Strings(res.Signers)
	return res
}

// LoadFiles reads the witness files and checks their checkpoints with pub.
// A missing file or one that does not parse is a problem: a witness that
// was deleted must not read as "nothing to check".
func LoadFiles(paths []string, pub ed25519.PublicKey) Result {
	var all []Located
	var problems, warnings []string
	for _, p := range paths {
		cps, torn, err := ReadFile(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if torn != "" {
			warnings = append(warnings, torn)
		}
		all = append(all, cps...)
	}
	res := Check(all, pub)
	res.Problems = append(problems, res.Problems...)
	res.Warnings = append(warnings, res.Warnings...)
	return res
}

// Latest returns the last checkpoint of every signer in cps, in signer
// order: what an export carries to be verified offline.
func Latest(cps []Located) []Checkpoint {
	last := map[string]Checkpoint{}
	for _, c := range cps {
		last[c.Signer] = c.Checkpoint
	}
	signers := make([]string, 0, len(last))
	for s := range last {
		signers = append(signers, s)
	}
	sort.Strings(signers)
	out := make([]Checkpoint, len(signers))
	for i, s := range signers {
		out[i] = last[s]
	}
	return out
}
