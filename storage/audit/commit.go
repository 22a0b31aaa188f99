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

// gather tops batch up to MaxBatch. Sync batches take only what is already
// queued — commits take time, during which the next batch forms on its own —
// while async batches linger up to MaxDelay/2 to group more records.
func (w *Writer) gather(batch []*item) []*item {
	var linger <-chan time.Time
	if !w.sync {
		timer := time.NewTimer(w.cfg.MaxDelay / 2)
		defer timer.Stop()
		linger = timer.C
	}
	for len(batch) < w.cfg.MaxBatch {
		select {
		case it, ok := <-w.queue:
			if !ok {
				return batch
			}
			batch = append(batch, it)
			continue
		default:
		}
		if linger == nil {
			return batch
		}
		select {
		case it, ok := <-w.queue:
			if !ok {
				return batch
			}
			batch = append(batch, it)
		case <-linger:
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
		batch = w.topUp(batch)
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

// topUp adds already-queued records to a retried batch, so sync callers
// queued behind an outage get their answer at the next attempt.
func (w *Writer) topUp(batch []*item) []*item {
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
