package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/journal"
)

// leadWait is how long run waits for the indexer's progress while the
// journal is IndexLead ahead (throttle) before it takes the store for one
// that hangs and runs ahead.
const leadWait = time.Second

// indexer appends journaled records to the store.
//
// The records run hands over are kept in memory (pending), up to
// IndexLead + MaxBatch of them: with throttle, as many as a healthy store
// lets the journal run ahead. Beyond that, and at start for the entries
// journaled before this writer, onDisk is set and records stay in the
// journal only, read back by the indexer (indexDisk). push keeps nothing in
// memory while onDisk is set; the indexer clears it once it has read
// through the last record handed over. Records on disk only therefore come
// after pending (onDisk) or before it (a gap between pos and pendingFrom,
// read but not yet indexed when onDisk was cleared): diskGap finds both.
type indexer struct {
	w     *Writer
	jr    *journal.Journal
	store JournalStore

	mu sync.Mutex
	// pending[0] has journal seq pendingFrom.
	pending     []storage.AuditRecord
	pendingFrom int64
	onDisk      bool
	// replayUntil is the last seq journaled before this writer started:
	// those records count as replayed.
	replayUntil int64
	// progress is closed and replaced whenever pos moves or an attempt
	// fails.
	progress chan struct{}

	wake chan struct{}
	// hurry asks the indexer not to wait out IndexDelay (WaitIndexed).
	hurry   chan struct{}
	pos     atomic.Int64 // journal seq through which the store holds the records
	last    atomic.Int64 // last journaled seq handed over (set under mu)
	backlog atomic.Int64 // journaled, not indexed
	lastErr atomic.Pointer[error]
	indexed atomic.Int64 // Unix nanoseconds of the last index commit

	// draining is closed by Close after run stopped: the indexer then
	// stops once nothing is pending. stop aborts it at Close's deadline.
	draining chan struct{}
	stopCtx  context.Context
	stop     context.CancelFunc
	done     chan struct{}
}

// push hands records journaled as first..last to the indexer.
func (ix *indexer) push(recs []storage.AuditRecord, first, last int64) {
	ix.mu.Lock()
	if !ix.onDisk && len(ix.pending)+len(recs) > ix.w.cfg.IndexLead+ix.w.cfg.MaxBatch {
		ix.onDisk = true // the indexer reads these back from the journal
	}
	if !ix.onDisk {
		if len(ix.pending) == 0 {
			ix.pendingFrom = first
		}
		ix.pending = append(ix.pending, recs...)
	}
	ix.last.Store(last)
	ix.mu.Unlock()
	ix.backlog.Add(int64(len(recs)))
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// throttle makes run wait while the journal is more than IndexLead records
// ahead of the index and the indexer is making progress, so that a
// sustained load runs at the rate the store indexes instead of filling the
// backlog until decisions are refused. It returns at once while the
// indexer's last attempt failed, and after leadWait without progress (a
// store that hangs): the backlog then absorbs the outage up to its bound.
func (ix *indexer) throttle(ctx context.Context) {
	lead := int64(ix.w.cfg.IndexLead)
	if ix.backlog.Load() <= lead {
		return
	}
	start := time.Now()
	defer func() { ix.w.c.throttled.Add(int64(time.Since(start))) }()
	timer := time.NewTimer(leadWait)
	defer timer.Stop()
	for ix.lastErr.Load() == nil {
		ix.mu.Lock()
		ch := ix.progress
		ix.mu.Unlock()
		if ix.backlog.Load() <= lead {
			return
		}
		select {
		case <-ch:
			timer.Reset(leadWait)
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		case <-ix.done:
			return
		}
	}
}

// refuse returns ErrUnavailable for n more records while the backlog is
// at its bound.
func (ix *indexer) refuse(n int) error {
	backlog := ix.backlog.Load()
	if backlog+int64(n) <= int64(ix.w.cfg.JournalBacklog) {
		return nil
	}
	ix.w.c.refused.Add(uint64(n))
	cause := errors.New("the store is slower than the decisions")
	if p := ix.lastErr.Load(); p != nil {
		cause = *p
	}
	return fmt.Errorf("audit: write: %w: %d journaled records wait for the database (bound %d): %w",
		ErrUnavailable, backlog, ix.w.cfg.JournalBacklog, cause)
}

// run indexes what run hands over and what waits on disk, in journal
// order, until Close.
func (ix *indexer) run() {
	defer close(ix.done)
	w := ix.w
	if w.ckpt != nil {
		defer close(w.ckpt)
	}
	backoff := w.cfg.RetryMin
	lingered := false
	for {
		if until, ok := ix.diskGap(); ok {
			if err := ix.indexDisk(until); err != nil {
				if !ix.wait(err, &backoff) {
					return
				}
				continue
			}
			backoff = w.cfg.RetryMin
			continue
		}
		batch, from := ix.take()
		if len(batch) == 0 {
			select {
			case <-ix.wake:
				continue
			case <-ix.draining:
				if _, gap := ix.diskGap(); !gap && ix.pendingLen() == 0 {
					return
				}
				continue
			case <-ix.stopCtx.Done():
				return
			}
		}
		if !lingered && len(batch) < w.cfg.IndexBatch && w.cfg.IndexDelay > 0 {
			ix.linger()
			lingered = true
			continue // take again: more records arrived meanwhile
		}
		lingered = false
		err := ix.index(from, batch)
		if err == nil {
			backoff = w.cfg.RetryMin
			continue
		}
		if !ix.wait(err, &backoff) {
			return
		}
	}
}

// linger waits up to IndexDelay for a fuller batch. It returns early when
// IndexBatch records are pending, when records wait on disk, when
// WaitIndexed hurries it, or when Close drains or stops the indexer.
func (ix *indexer) linger() {
	timer := time.NewTimer(ix.w.cfg.IndexDelay)
	defer timer.Stop()
	for {
		select {
		case <-ix.wake:
			ix.mu.Lock()
			full := len(ix.pending) >= ix.w.cfg.IndexBatch || ix.onDisk
			ix.mu.Unlock()
			if full {
				return
			}
		case <-timer.C:
			return
		case <-ix.hurry:
			return
		case <-ix.draining:
			return
		case <-ix.stopCtx.Done():
			return
		}
	}
}

// take returns up to IndexBatch pending records and the seq before the
// first of them, without removing them.
func (ix *indexer) take() ([]storage.AuditRecord, int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// pos may have moved past pending records (a commit whose outcome was
	// unknown, found out by a conflict): drop those.
	if skip := ix.pos.Load() - (ix.pendingFrom - 1); skip > 0 && len(ix.pending) > 0 {
		skip = min(skip, int64(len(ix.pending)))
		ix.pending = ix.pending[skip:]
		ix.pendingFrom += skip
	}
	n := min(len(ix.pending), ix.w.cfg.IndexBatch)
	return ix.pending[:n:n], ix.pendingFrom - 1
}

// diskGap returns the seq through which the next records to index are on
// disk only, if they are.
func (ix *indexer) diskGap() (until int64, ok bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	pos := ix.pos.Load()
	switch {
	case len(ix.pending) > 0:
		return ix.pendingFrom - 1, ix.pendingFrom-1 > pos
	case ix.onDisk && pos < ix.last.Load():
		return ix.last.Load(), true
	}
	ix.onDisk = false // caught up
	return 0, false
}

// pendingLen is len(pending).
func (ix *indexer) pendingLen() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return len(ix.pending)
}

// index appends batch, journal entries from+1.., and moves the position.
func (ix *indexer) index(from int64, batch []storage.AuditRecord) error {
	through := from + int64(len(batch))
	recs := make([]storage.AuditRecord, len(batch))
	copy(recs, batch)
	if ok, err := ix.appendJournaled(from, through, recs); !ok {
		return err
	}
	ix.mu.Lock()
	drop := int(through - (ix.pendingFrom - 1))
	ix.pending = ix.pending[drop:]
	ix.pendingFrom = through + 1
	if len(ix.pending) == 0 {
		ix.pending = nil // let the backing array go
	}
	ix.mu.Unlock()
	ix.advanced(through, len(batch))
	return nil
}

// indexDisk appends the journal entries after pos through until, read back
// from the journal files, in batches of IndexBatch. Once it has read
// through the last record handed over, push keeps records in memory again.
func (ix *indexer) indexDisk(until int64) error {
	from := ix.pos.Load()
	batch := make([]storage.AuditRecord, 0, min(ix.w.cfg.IndexBatch, int(until-from)))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		through := from + int64(len(batch))
		if ok, err := ix.appendJournaled(from, through, batch); !ok {
			return err
		}
		if replayed := min(through, ix.replayUntil) - from; replayed > 0 {
			ix.w.c.replayed.Add(uint64(replayed))
			if through >= ix.replayUntil {
				ix.w.cfg.Logger.Info("audit journal replayed into the database", "through", ix.replayUntil)
			}
		}
		ix.advanced(through, len(batch))
		from = through
		batch = batch[:0:0]
		return nil
	}
	err := ix.jr.ReadFrom(uint64(from+1), func(seq uint64, entry []byte) error {
		if int64(seq) > until {
			return errStopRead
		}
		r, err := decodeEntry(entry)
		if err != nil {
			return fmt.Errorf("entry %d: %w", seq, err)
		}
		batch = append(batch, r)
		if len(batch) < ix.w.cfg.IndexBatch {
			return nil
		}
		return flush()
	})
	if err != nil && !errors.Is(err, errStopRead) {
		return fmt.Errorf("audit: journal read back: %w", err)
	}
	ix.mu.Lock()
	if ix.onDisk && ix.last.Load() == until {
		ix.onDisk = false
	}
	ix.mu.Unlock()
	return flush()
}

var errStopRead = errors.New("stop reading")

// appendJournaled appends recs, journal entries from+1..through, moving the
// store's position; ok is false when they were not appended by this call.
// A conflict re-reads the position (resync), whose error, or nil when an
// earlier commit turns out to have succeeded, is err.
func (ix *indexer) appendJournaled(from, through int64, recs []storage.AuditRecord) (ok bool, err error) {
	ctx, cancel := context.WithTimeout(ix.stopCtx, ix.w.cfg.CommitTimeout)
	err = ix.store.AppendAuditJournaled(ctx, ix.jr.ID(), from, through, recs)
	cancel()
	if errors.Is(err, storage.ErrConflict) {
		return false, ix.resync(err)
	}
	return err == nil, err
}

// resync re-reads the store's position after a conflict. A position ahead
// of ours within what the journal holds means an earlier attempt committed
// although it reported an error (a lost connection at commit): the records
// are there, and the indexer goes on after them. Anything else is another
// process indexing this journal, which the lock on the journal directory
// rules out; it is reported and retried.
func (ix *indexer) resync(conflict error) error {
	ctx, cancel := context.WithTimeout(ix.stopCtx, ix.w.cfg.CommitTimeout)
	pos, err := ix.store.AuditJournalPosition(ctx, ix.jr.ID())
	cancel()
	if err != nil {
		return fmt.Errorf("%w (re-reading the position: %w)", conflict, err)
	}
	cur := ix.pos.Load()
	if pos <= cur || pos > ix.last.Load() {
		return fmt.Errorf("%w: the database has indexed journal %s through %d, this writer through %d", conflict, ix.jr.ID(), pos, cur)
	}
	ix.w.cfg.Logger.Info("audit journal: an earlier index commit had succeeded after all", "through", pos)
	ix.advanced(pos, int(pos-cur))
	return nil
}

// advanced records that the store holds the journal through seq.
func (ix *indexer) advanced(through int64, n int) {
	w := ix.w
	ix.pos.Store(through)
	ix.backlog.Add(-int64(n))
	ix.lastErr.Store(nil)
	now := w.cfg.Now()
	ix.indexed.Store(now.UnixNano())
	w.c.committed.Add(uint64(n))
	w.c.batches.Add(1)
	w.c.lastCommit.Store(now.UnixNano())
	ix.notify()
	if err := ix.jr.Release(uint64(through)); err != nil {
		w.cfg.Logger.Warn("audit journal: indexed segments not deleted", "err", err)
	}
	w.committedBatch()
}

// notify wakes WaitIndexed and throttle.
func (ix *indexer) notify() {
	ix.mu.Lock()
	close(ix.progress)
	ix.progress = make(chan struct{})
	ix.mu.Unlock()
}

// wait records err and sleeps the backoff; false when the indexer must
// stop.
func (ix *indexer) wait(err error, backoff *time.Duration) bool {
	w := ix.w
	ix.lastErr.Store(&err)
	ix.notify() // run stops throttling: the backlog absorbs the outage
	w.c.failedAttempts.Add(1)
	w.cfg.Logger.Error("audit index commit failed; the records stay in the journal", "err", err,
		"backlog", ix.backlog.Load(), "retry_in", *backoff)
	select {
	case <-time.After(*backoff):
	case <-ix.stopCtx.Done():
		return false
	}
	*backoff = min(2**backoff, w.cfg.RetryMax)
	return true
}
