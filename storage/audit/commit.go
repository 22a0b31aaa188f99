package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// run is the single commit goroutine: it owns the chain order.
func (w *Writer) run() {
	defer close(w.stopped)
	defer w.abort()
	if w.ckpt != nil {
		defer close(w.ckpt)
	}
	for {
		first, ok := <-w.queue
		if !ok {
			return
		}
		batch := w.gather([]*item{first})
		if !w.commit(batch) {
			w.failRemaining()
			return
		}
	}
}

// gather tops batch up to MaxBatch. Async batches linger up to MaxDelay/2
// to group more records. Sync batches take what is already queued and then
// wait only for announced records (Announce), at most SyncLinger after the
// batch started forming: commits take time, during which the next batch
// forms on its own, and a lone request must not wait for company.
func (w *Writer) gather(batch []*item) []*item {
	batch = w.drain(batch)
	if len(batch) >= w.cfg.MaxBatch {
		return batch
	}
	var timeout time.Duration
	switch {
	case !w.sync:
		timeout = w.cfg.MaxDelay / 2
	case w.cfg.SyncLinger > 0 && w.announced.Load() > 0:
		timeout = w.cfg.SyncLinger
	default:
		return batch
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for len(batch) < w.cfg.MaxBatch {
		select {
		case it, ok := <-w.queue:
			if !ok {
				return batch
			}
			batch = w.drain(append(batch, it))
		case <-w.settled:
		case <-timer.C:
			return batch
		}
		if w.sync && w.announced.Load() <= 0 {
			return w.drain(batch)
		}
	}
	return batch
}

// drain adds the records already queued, up to MaxBatch, without waiting.
func (w *Writer) drain(batch []*item) []*item {
	for len(batch) < w.cfg.MaxBatch {
		select {
		case it, ok := <-w.queue:
			if !ok {
				return batch
			}
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

// commit appends batch, retrying with backoff until it commits. Sync
// records leave the batch at their first failure with an error, because
// their callers are waiting to answer; async records stay until they commit.
// It returns false when the writer was aborted with records uncommitted.
func (w *Writer) commit(batch []*item) bool {
	backoff := w.cfg.RetryMin
	for attempt := 1; ; attempt++ {
		err := w.append(batch)
		if err == nil {
			if attempt > 1 {
				w.cfg.Logger.Info("audit store recovered", "attempts", attempt, "records", len(batch))
			}
			w.lastErr.Store(nil)
			for _, it := range batch {
				if it.done != nil {
					it.done <- nil
				}
			}
			w.committedBatch()
			return true
		}
		w.lastErr.Store(&err)
		w.c.failedAttempts.Add(1)
		w.cfg.Logger.Error("audit commit failed", "err", err, "attempt", attempt, "records", len(batch), "retry_in", backoff)
		batch = w.failSync(batch, err)
		if errors.Is(err, storage.ErrInvalid) {
			// Retrying cannot fix a record the store refuses; Write validates
			// records, so this means a producer bug. Never silent: log each.
			w.drop(batch, "store rejected the batch as invalid")
			return true
		}
		if len(batch) == 0 {
			return true
		}
		select {
		case <-time.After(backoff):
		case <-w.runCtx.Done():
			w.drop(batch, "writer closed while the store was failing")
			return false
		}
		backoff = min(2*backoff, w.cfg.RetryMax)
		batch = w.drain(batch) // sync callers queued behind an outage answer at the next attempt
	}
}

// append runs one attempt with its own timeout.
func (w *Writer) append(batch []*item) error {
	recs := make([]storage.AuditRecord, len(batch))
	for i, it := range batch {
		recs[i] = it.rec
	}
	ctx, cancel := context.WithTimeout(w.runCtx, w.cfg.CommitTimeout)
	defer cancel()
	if err := w.cfg.Store.AppendAudit(ctx, recs); err != nil {
		return err
	}
	w.c.committed.Add(uint64(len(recs)))
	w.c.batches.Add(1)
	return nil
}

// failSync answers the sync records of a failed attempt and returns the
// async records that must be retried.
func (w *Writer) failSync(batch []*item, cause error) []*item {
	keep := batch[:0]
	for _, it := range batch {
		if it.done == nil {
			keep = append(keep, it)
			continue
		}
		w.c.syncFailed.Add(1)
		it.done <- fmt.Errorf("%w: %w", ErrUnavailable, cause)
	}
	return keep
}

// failRemaining empties the queue after an abort.
func (w *Writer) failRemaining() {
	var rest []*item
	for it := range w.queue {
		if it.done != nil {
			it.done <- fmt.Errorf("audit: write: %w", ErrClosed)
			continue
		}
		rest = append(rest, it)
	}
	w.drop(rest, "writer closed while the store was failing")
}

func (w *Writer) drop(batch []*item, why string) {
	for _, it := range batch {
		if it.done != nil {
			it.done <- fmt.Errorf("audit: write: %w", ErrUnavailable)
			continue
		}
		w.c.lost.Add(1)
		w.cfg.Logger.Error("audit record not committed", "reason", why,
			"decision_id", it.rec.DecisionID, "request_id", it.rec.RequestID, "kind", it.rec.Kind)
	}
}
