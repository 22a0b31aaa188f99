package trail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/anchor"
)

// Anchoring names the signed checkpoints the trail is verified against:
// the witness files the checkpointer appends to and the public key of its
// signing key.
type Anchoring struct {
	WitnessFiles []string
	PublicKey    ed25519.PublicKey
}

// Verification is the outcome of verifying the trail.
type Verification struct {
	storage.VerifyReport
	// Checkpoints is what the signed checkpoints prove; nil when the
	// trail was verified without them (no Anchoring configured).
	Checkpoints *anchor.Result
	// KeyID names the public key the checkpoints were verified with.
	KeyID string
}

// Intact reports whether the records and the checkpoints verified.
func (v *Verification) Intact() bool {
	return v.OK && (v.Checkpoints == nil || v.Checkpoints.OK())
}

// Verify walks every chain and reports the first defect. With Anchoring
// it first checks the signed checkpoints and then the records against
// them; a problem with the checkpoints themselves (a deleted witness, a
// wrong key, an edited line) fails the verification as a broken record
// does.
func (t *Trail) Verify(ctx context.Context) (Verification, error) {
	var v Verification
	var anchors storage.Anchors
	if a := t.cfg.Anchoring; a != nil {
		res := anchor.LoadFiles(a.WitnessFiles, a.PublicKey)
		v.Checkpoints, v.KeyID, anchors = &res, anchor.KeyID(a.PublicKey), res.Anchors
	}
	rep, err := t.cfg.Store.VerifyAnchored(ctx, anchors)
	if err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	v.VerifyReport = rep
	return v, nil
}

// exportCheckpoints returns the latest checkpoint of every signer, read
// before the records stream, so that they cover what the export holds up
// to them. Without Anchoring, or without a readable witness, there are
// none: the export then verifies as consistent but unanchored.
func (t *Trail) exportCheckpoints() []anchor.Checkpoint {
	a := t.cfg.Anchoring
	if a == nil {
		return nil
	}
	var all []anchor.Located
	for _, p := range a.WitnessFiles {
		cps, _, err := anchor.ReadFile(p)
		if err != nil {
			continue
		}
		all = append(all, cps...)
	}
	return anchor.Latest(all)
}

// checkpointLine is an NDJSON export line carrying a checkpoint. Record
// lines never have a "checkpoint" key.
type checkpointLine struct {
	Checkpoint *anchor.Checkpoint `json:"checkpoint"`
}

// VerifyExport verifies an NDJSON export offline, with only the public
// key: the checkpoints it carries (its first lines) with pub, then every
// record's hash and link and the records against the checkpoints. The
// export must hold whole chains in chain order (`stepgate audit export
// --format ndjson --chain-order`, no filter); a filtered or newest-first
// export is refused with ErrInvalid, since its gaps would read as deletions.
func VerifyExport(r io.Reader, pub ed25519.PublicKey) (Verification, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var cps []anchor.Located
	var cv *storage.ChainVerifier
	var v Verification
	done := map[string]bool{}
	current, last := "", int64(0)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if bad := verifyLine(line, n, &cps, &cv, &v, pub, done, &current, &last); bad != nil {
				return v, bad
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return v, fmt.Errorf("read export: %w", err)
		}
	}
	if cv == nil {
		cv = startVerifier(cps, &v, pub)
	}
	if v.FirstBroken == nil {
		v.FirstBroken = cv.Finish()
	}
	v.Checked, v.Chains = cv.Checked(), len(cv.Heads())
	v.Anchored = true
	v.Unanchored = cv.Unanchored()
	v.OK = v.FirstBroken == nil
	return v, nil
}

func verifyLine(line []byte, n int, cps *[]anchor.Located, cv **storage.ChainVerifier, v *Verification,
	pub ed25519.PublicKey, done map[string]bool, current *string, last *int64) error {
	var cl checkpointLine
	if err := json.Unmarshal(line, &cl); err != nil {
		return fmt.Errorf("%w: export line %d is not JSON: %v", admin.ErrInvalid, n, err)
	}
	if cl.Checkpoint != nil {
		if *cv != nil {
			return fmt.Errorf("%w: export line %d: a checkpoint after the records (checkpoints come first)", admin.ErrInvalid, n)
		}
		*cps = append(*cps, anchor.Located{Checkpoint: *cl.Checkpoint, Source: "export", Line: n})
		return nil
	}
	if *cv == nil {
		*cv = startVerifier(*cps, v, pub)
	}
	var rec storage.AuditRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return fmt.Errorf("%w: export line %d is not an audit record: %v", admin.ErrInvalid, n, err)
	}
	if rec.ChainID != *current {
		if done[rec.ChainID] {
			return fmt.Errorf("%w: export line %d: chain %q continues after another chain; the export is not in chain order (export with --chain-order)",
				admin.ErrInvalid, n, rec.ChainID)
		}
		done[*current], *current = true, rec.ChainID
	} else if rec.Seq <= *last {
		return fmt.Errorf("%w: export line %d: chain %q seq %d after seq %d; the export is not in chain order (export with --chain-order)",
			admin.ErrInvalid, n, rec.ChainID, rec.Seq, *last)
	}
	*last = rec.Seq
	if b := (*cv).Add(rec); b != nil && v.FirstBroken == nil {
		v.FirstBroken = b
	}
	return nil
}

// startVerifier checks the checkpoints read so far and anchors a verifier
// with them.
func startVerifier(cps []anchor.Located, v *Verification, pub ed25519.PublicKey) *storage.ChainVerifier {
	res := anchor.Check(cps, pub)
	v.Checkpoints, v.KeyID = &res, anchor.KeyID(pub)
	cv := storage.NewChainVerifier()
	cv.Anchor(res.Anchors)
	return cv
}
