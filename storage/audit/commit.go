package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// run is the single commit goroutine: it owns the chain order. Records
// spilled by an earlier Close of this chain go first.
func (w *Writer) run() {
	defer close(w.stopped)
	defer w.abort()
	if w.ckpt != nil && w.ix == nil {
		defer close(w.ckpt) // with a journal, the indexer commits and closes it
	}
	w.replaySpills()
	for {
		first, ok := <-w.queue
		if !ok {
			return
		}
		batch := w.gather([]*item{first})
		if left, aborted := w.commit(batch); aborted {
			w.spillRemaining(left)
			return
		}
		if w.spillPending && w.Healthy() == nil {
			w.replaySpills()
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
// When the writer is aborted it returns the async records still
// uncommitted and aborted true.
func (w *Writer) commit(batch []*item) (left []*item, aborted bool) {
	backoff := w.cfg.RetryMin
	for attempt := 1; ; attempt++ {
		err := w.append(batch)
		if err == nil {
			if attempt > 1 {
				w.cfg.Logger.Info("audit store recovered", "attempts", attempt, "records", len(batch))
			}
			w.stalledSince.Store(0) // before lastErr: Healthy() == nil implies no stall
			w.lastErr.Store(nil)
			for _, it := range batch {
				if it.done != nil {
					it.done <- nil
				}
			}
			if w.ix == nil {
				w.committedBatch() // with a journal, the indexer's commits count
			}
			return nil, false
		}
		w.lastErr.Store(&err)
		w.c.failedAttempts.Add(1)
		w.cfg.Logger.Error("audit commit failed", "err", err, "attempt", attempt, "records", len(batch), "retry_in", backoff)
		batch = w.failSync(batch, err)
		if errors.Is(err, storage.ErrInvalid) {
			// Retrying cannot fix a record the store refuses, and replaying
			// it later could not either; Write validates records, so this
			// means a producer bug. Never silent: each is logged and named.
			w.lose(records(batch), "store rejected the batch as invalid")
			return nil, false
		}
		if len(batch) == 0 {
			return nil, false
		}
		w.markStalled(batch)
		select {
		case <-time.After(backoff):
		case <-w.runCtx.Done():
			return batch, true
		}
		backoff = min(2*backoff, w.cfg.RetryMax)
		batch = w.drain(batch) // sync callers queued behind an outage answer at the next attempt
	}
}

// markStalled records, at the first failed attempt of an outage, the time of
// the oldest record still waiting, for refuseStalled.
func (w *Writer) markStalled(batch []*item) {
	if w.stalledSince.Load() != 0 {
		return
	}
	oldest := batch[0].rec.Time
	for _, it := range batch[1:] {
		if it.rec.Time.Before(oldest) {
			oldest = it.rec.Time
		}
	}
	w.stalledSince.Store(max(oldest.UnixNano(), 1))
}

// append runs one attempt with its own timeout.
func (w *Writer) append(batch []*item) error {
	recs := records(batch)
	if w.ix != nil {
		return w.journalAppend(recs)
	}
	ctx, cancel := context.WithTimeout(w.runCtx, w.cfg.CommitTimeout)
	defer cancel()
	if err := w.cfg.Store.AppendAudit(ctx, recs); err != nil {
		return err
	}
	w.c.committed.Add(uint64(len(recs)))
	w.c.batches.Add(1)
	w.c.lastCommit.Store(w.cfg.Now().UnixNano())
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

// spillRemaining runs after an abort: it fails the sync callers still
// queued with ErrClosed and spills left and every queued async record.
func (w *Writer) spillRemaining(left []*item) {
	for it := range w.queue {
		if it.done != nil {
			it.done <- fmt.Errorf("audit: write: %w", ErrClosed)
			continue
		}
		left = append(left, it)
	}
	if len(left) > 0 {
		w.spill(records(left))
	}
}

func records(batch []*item) []storage.AuditRecord {
	recs := make([]storage.AuditRecord, len(batch))
	for i, it := range batch {
		recs[i] = it.rec
	}
	return recs
}
