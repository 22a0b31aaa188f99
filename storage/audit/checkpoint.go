package audit

import "context"

// walCheckpointer is the part of storage.Store (storage.AuditTrail) that
// copies a write-ahead log into the database now and then (sqlstore on
// SQLite). The writer does that beside the commit loop, so no commit, and
// no sync caller waiting on one, pays for the copy. The writer's Store
// needs only AppendAudit, so the checkpointer is optional: a store without
// it (a test fake) is simply never checkpointed.
type walCheckpointer interface {
	CheckpointWAL(ctx context.Context) error
}

// checkpointEvery is how many committed batches pass between checkpoints:
// a batch adds one WAL frame per page it touched (about 15 for a small
// batch of decisions), so this keeps the WAL near SQLite's default size.
const checkpointEvery = 32

// startCheckpointer starts the checkpoint goroutine when the store has a
// WAL to checkpoint. run signals it through w.ckpt and closes w.ckpt when
// it exits; the goroutine then ends and closes w.ckptDone.
func (w *Writer) startCheckpointer() {
	cp, ok := w.cfg.Store.(walCheckpointer)
	if !ok {
		close(w.ckptDone)
		return
	}
	w.ckpt = make(chan struct{}, 1)
	go func() {
		defer close(w.ckptDone)
		for range w.ckpt {
			if err := cp.CheckpointWAL(w.runCtx); err != nil && w.runCtx.Err() == nil {
				w.cfg.Logger.Warn("audit wal checkpoint failed", "err", err)
			}
		}
	}()
}

// committedBatch counts a committed batch and asks for a checkpoint every
// checkpointEvery batches, never waiting for it.
func (w *Writer) committedBatch() {
	if w.ckpt == nil {
		return
	}
	if w.sinceCkpt.Add(1) < checkpointEvery {
		return
	}
	select {
	case w.ckpt <- struct{}{}:
		w.sinceCkpt.Store(0)
	default:
	}
}
