package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stepgate/stepgate/storage"
)

// replaySpills commits the records of this chain's spill files, oldest file
// first and each file in its order, before the writer commits anything
// else, and removes each file once all of its records committed. A crash
// between a commit and the removal (or a removal that fails) replays those
// records again at the next start: the trail can then hold a record twice
// (same decision id), but a spilled record is never lost.
//
// A file that cannot be read, or that the store rejects as invalid, is left
// in place and logged; Unwritten keeps reporting it. When the store fails,
// the remaining files wait for the writer's next successful commit.
func (w *Writer) replaySpills() {
	w.spillPending = false
	if w.cfg.SpillDir == "" {
		return
	}
	files, err := spillFiles(w.cfg.SpillDir, w.cfg.ChainID)
	if err != nil {
		w.cfg.Logger.Error("audit spill directory unreadable; spilled records are not replayed", "dir", w.cfg.SpillDir, "err", err)
		return
	}
	for _, path := range files {
		recs, err := readSpill(path)
		if err == nil {
			err = sameChain(recs, w.cfg.ChainID)
		}
		if err != nil {
			w.cfg.Logger.Error("audit spill file unreadable; left in place", "file", path, "err", err)
			continue
		}
		err = w.replayFile(path, recs)
		switch {
		case errors.Is(err, storage.ErrInvalid):
			w.cfg.Logger.Error("audit store rejects a spill file; left in place", "file", path, "err", err)
		case err != nil:
			w.spillPending = w.runCtx.Err() == nil
			w.cfg.Logger.Error("audit spill replay failed; retried after the next commit", "file", path, "err", err)
			return
		default:
			w.cfg.Logger.Info("audit spill file replayed into the store", "file", path, "records", len(recs))
		}
	}
}

// replayFile appends recs, the records of the spill file at path, in
// batches of MaxBatch, then removes the file. When a batch fails after
// others committed, the file is rewritten with the records still
// uncommitted, so that the next replay does not repeat the committed ones.
func (w *Writer) replayFile(path string, recs []storage.AuditRecord) error {
	for done := 0; done < len(recs); {
		n := min(len(recs)-done, w.cfg.MaxBatch)
		ctx, cancel := context.WithTimeout(w.runCtx, w.cfg.CommitTimeout)
		err := w.cfg.Store.AppendAudit(ctx, recs[done:done+n])
		cancel()
		if err != nil {
			if done > 0 {
				if rerr := rewriteSpill(path, recs[done:]); rerr != nil {
					w.cfg.Logger.Error("audit spill file not shortened; its committed records will be replayed twice", "file", path, "err", rerr)
				}
			}
			return fmt.Errorf("audit: replay %s: %w", filepath.Base(path), err)
		}
		w.c.committed.Add(uint64(n))
		w.c.replayed.Add(uint64(n))
		w.c.batches.Add(1)
		w.c.lastCommit.Store(w.cfg.Now().UnixNano())
		w.committedBatch()
		done += n
	}
	// The records are in the store: a file that cannot be removed is only
	// logged, never retried, so that it is not committed again and again.
	if err := os.Remove(path); err != nil {
		w.cfg.Logger.Error("audit spill file replayed but not removed; remove it, or its records are replayed again at the next start", "file", path, "err", err)
		return nil
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		w.cfg.Logger.Warn("audit spill directory not synced after removal", "err", err)
	}
	return nil
}

// sameChain checks that a spill file of chain holds only records of chain,
// so that a misplaced file is never linked into the wrong chain.
func sameChain(recs []storage.AuditRecord, chain string) error {
	for i, r := range recs {
		if r.ChainID != chain {
			return fmt.Errorf("record %d belongs to chain %q, not %q", i+1, r.ChainID, chain)
		}
		if r.Kind == "" {
			return fmt.Errorf("record %d: %w: empty kind", i+1, ErrInvalidRecord)
		}
	}
	return nil
}
