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

// With Config.JournalDir set, a record is durable once it is in the local
// journal (storage/journal), and the database becomes the index the trail
// is searched in:
//
//   - run, the commit goroutine, appends each batch to the journal with one
//     fdatasync (group commit) and answers the sync callers; this is the
//     only audit work on the request path.
//   - the indexer goroutine takes the journaled records, in journal order,
//     and appends them to the store in large batches with
//     AppendAuditJournaled, which moves the journal's position in the same
//     transaction. The store still links the hash chain, so records the
//     admin changes append inside their own transactions interleave as
//     before.
//   - on start, the indexer first appends what the journal holds after the
//     store's position (a crash, kill -9, or a store that was down at
//     Close), then the records journaled since.
//   - journal segments are deleted once the store holds all their records.
//
// Journaled records wait for the indexer in memory, at most
// Config.JournalBacklog of them: beyond that Write refuses (ErrUnavailable),
// so a store that is down for long makes decisions deny, as without a
// journal, instead of growing without bound.

// JournalStore is what the indexer needs of the store.
type JournalStore interface {
	storage.AuditJournals
}

// indexer appends journaled records to the store.
type indexer struct {
	w     *Writer
	jr    *journal.Journal
	store JournalStore

	mu sync.Mutex
	// pending are the records journaled and not yet indexed that run
	// handed over; pending[0] has journal seq pendingFrom.
	pending     []storage.AuditRecord
	pendingFrom int64
	// diskUntil is the last seq journaled before this writer started: the
	// indexer reads (pos, diskUntil] from the journal files first.
	diskUntil int64
	// progress is closed and replaced whenever pos moves.
	progress chan struct{}

	wake chan struct{}
	// hurry asks the indexer not to wait out IndexDelay (WaitIndexed).
	hurry   chan struct{}
	pos     atomic.Int64 // journal seq through which the store holds the records
	last    atomic.Int64 // last journaled seq
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

// openIndexer opens the journal in dir, reads the store's position for it
// and starts the indexer goroutine.
func (w *Writer) openIndexer() error {
	store, ok := w.cfg.Store.(JournalStore)
	if !ok {
		return fmt.Errorf("audit: new writer: journal dir %s set but the store cannot index a journal (storage.AuditJournals)", w.cfg.JournalDir)
	}
	jr, err := journal.Open(w.cfg.JournalDir, journal.Options{})
	if err != nil {
		return fmt.Errorf("audit: new writer: %w", err)
	}
	if n := jr.Recovered(); n > 0 {
		w.cfg.Logger.Warn("audit journal: cut off a torn tail (a write interrupted by a crash; its records were never acknowledged)",
			"dir", jr.Dir(), "bytes", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CommitTimeout)
	pos, err := store.AuditJournalPosition(ctx, jr.ID())
	cancel()
	if err == nil {
		err = checkPosition(jr, pos)
	}
	if err != nil {
		jr.Close()
		return fmt.Errorf("audit: new writer: journal %s: %w", jr.Dir(), err)
	}
	stopCtx, stop := context.WithCancel(context.Background())
	ix := &indexer{w: w, jr: jr, store: store, diskUntil: int64(jr.Last()),
		progress: make(chan struct{}), wake: make(chan struct{}, 1), hurry: make(chan struct{}, 1),
		draining: make(chan struct{}), stopCtx: stopCtx, stop: stop, done: make(chan struct{})}
	ix.pos.Store(pos)
	ix.last.Store(int64(jr.Last()))
	ix.backlog.Store(int64(jr.Last()) - pos)
	w.ix = ix
	go ix.run()
	return nil
}

// checkPosition refuses a journal the store's position does not fit: the
// store claims entries the journal never held, or the journal released
// entries the store does not hold.
func checkPosition(jr *journal.Journal, pos int64) error {
	last, first := int64(jr.Last()), int64(jr.First())
	switch {
	case pos > last:
		return fmt.Errorf("the database has indexed this journal (id %s) through entry %d, but the journal ends at %d: the journal directory was replaced by an older copy", jr.ID(), pos, last)
	case first > 0 && pos < first-1:
		return fmt.Errorf("the database has indexed this journal (id %s) through entry %d, but the journal starts at %d: entries %d..%d are gone from both", jr.ID(), pos, first, pos+1, first-1)
	}
	return nil
}

// journalAppend is run's append when a journal is configured: the batch is
// durable when it returns nil, and queued for the indexer.
func (w *Writer) journalAppend(recs []storage.AuditRecord) error {
	buf := w.jbuf[:0]
	ends := w.jends[:0]
	var err error
	for i := range recs {
		if buf, err = encodeEntry(buf, &recs[i]); err != nil {
			return fmt.Errorf("%w: %w", storage.ErrInvalid, err)
		}
		ends = append(ends, len(buf))
	}
	entries := w.jentries[:0]
	start := 0
	for _, end := range ends {
		entries = append(entries, buf[start:end])
		start = end
	}
	w.jbuf, w.jends, w.jentries = buf, ends, entries
	first, last, err := w.ix.jr.Append(entries)
	if err != nil {
		return err
	}
	w.ix.push(recs, int64(first), int64(last))
	return nil
}

// push hands records journaled as first..last to the indexer.
func (ix *indexer) push(recs []storage.AuditRecord, first, last int64) {
	ix.mu.Lock()
	if len(ix.pending) == 0 {
		ix.pendingFrom = first
	}
	ix.pending = append(ix.pending, recs...)
	ix.mu.Unlock()
	ix.last.Store(last)
	ix.backlog.Add(int64(len(recs)))
	select {
	case ix.wake <- struct{}{}:
	default:
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

// run indexes the journal's older entries, then what run hands over, until
// Close.
func (ix *indexer) run() {
	defer close(ix.done)
	w := ix.w
	if w.ckpt != nil {
		defer close(w.ckpt)
	}
	for ix.pos.Load() < ix.diskUntil {
		if err := ix.indexDisk(); err != nil {
			if !ix.backoff(err) {
				return
			}
		}
	}
	backoff := w.cfg.RetryMin
	lingered := false
	for {
		batch, from := ix.take()
		if len(batch) == 0 {
			select {
			case <-ix.wake:
				continue
			case <-ix.draining:
				if batch, _ = ix.take(); len(batch) == 0 {
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

// linger waits up to IndexDelay for a fuller batch. It returns early when IndexBatch records are pending, when WaitIndexed
// hurries it, or when Close drains or stops the indexer.
func (ix *indexer) linger() {
	timer := time.NewTimer(ix.w.cfg.IndexDelay)
	defer timer.Stop()
	for {
		select {
		case <-ix.wake:
			ix.mu.Lock()
			full := len(ix.pending) >= ix.w.cfg.IndexBatch
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
	n := min(len(ix.pending), ix.w.cfg.IndexBatch)
	// pos may have moved past pending records (a commit whose outcome was
	// unknown, found out by a conflict): drop those.
	if skip := ix.pos.Load() - (ix.pendingFrom - 1); skip > 0 {
		skip = min(skip, int64(len(ix.pending)))
		ix.pending = ix.pending[skip:]
		ix.pendingFrom += skip
		n = min(len(ix.pending), ix.w.cfg.IndexBatch)
	}
	return ix.pending[:n:n], ix.pendingFrom - 1
}

// index appends batch, journal entries from+1.., and moves the position.
func (ix *indexer) index(from int64, batch []storage.AuditRecord) error {
	w := ix.w
	through := from + int64(len(batch))
	recs := make([]storage.AuditRecord, len(batch))
	copy(recs, batch)
	ctx, cancel := context.WithTimeout(ix.stopCtx, w.cfg.CommitTimeout)
	err := ix.store.AppendAuditJournaled(ctx, ix.jr.ID(), from, through, recs)
	cancel()
	if errors.Is(err, storage.ErrConflict) {
		return ix.resync(err)
	}
	if err != nil {
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
	ix.mu.Lock()
	close(ix.progress)
	ix.progress = make(chan struct{})
	ix.mu.Unlock()
	if err := ix.jr.Release(uint64(through)); err != nil {
		w.cfg.Logger.Warn("audit journal: indexed segments not deleted", "err", err)
	}
	w.committedBatch()
}

// indexDisk appends journal entries pos+1..diskUntil, read back from the
// journal files, in batches of IndexBatch.
func (ix *indexer) indexDisk() error {
	from := ix.pos.Load()
	batch := make([]storage.AuditRecord, 0, ix.w.cfg.IndexBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		recs := batch
		through := from + int64(len(recs))
		ctx, cancel := context.WithTimeout(ix.stopCtx, ix.w.cfg.CommitTimeout)
		err := ix.store.AppendAuditJournaled(ctx, ix.jr.ID(), from, through, recs)
		cancel()
		if errors.Is(err, storage.ErrConflict) {
			return ix.resync(err)
		}
		if err != nil {
			return err
		}
		ix.w.c.replayed.Add(uint64(len(recs)))
		ix.advanced(through, len(recs))
		from = through
		batch = make([]storage.AuditRecord, 0, ix.w.cfg.IndexBatch)
		return nil
	}
	err := ix.jr.ReadFrom(uint64(from+1), func(seq uint64, entry []byte) error {
		if int64(seq) > ix.diskUntil {
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
		return fmt.Errorf("audit: journal replay: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	if ix.pos.Load() >= ix.diskUntil {
		ix.w.cfg.Logger.Info("audit journal replayed into the database", "through", ix.diskUntil)
	}
	return nil
}

var errStopRead = errors.New("stop reading")

// backoff is wait for the disk phase, with its own backoff.
func (ix *indexer) backoff(err error) bool {
	b := ix.w.cfg.RetryMin
	return ix.wait(err, &b)
}

// wait records err and sleeps the backoff; false when the indexer must
// stop.
func (ix *indexer) wait(err error, backoff *time.Duration) bool {
	w := ix.w
	ix.lastErr.Store(&err)
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

// closeIndexer lets the indexer drain what is pending until ctx ends, then
// closes the journal. What it did not index stays in the journal for the
// next start: journaled records are never lost by a Close.
func (w *Writer) closeIndexer(ctx context.Context) error {
	ix := w.ix
	close(ix.draining)
	select {
	case <-ix.done:
	case <-ctx.Done():
		ix.stop()
		<-ix.done
	}
	ix.stop()
	if left := ix.backlog.Load(); left > 0 {
		w.cfg.Logger.Warn("audit journal: records not yet in the database at close; the next start indexes them",
			"records", left, "journal", ix.jr.Dir(), "indexed_through", ix.pos.Load())
	}
	if err := ix.jr.Close(); err != nil {
		return fmt.Errorf("audit: close journal: %w", err)
	}
	return nil
}

// WaitIndexed waits until the store holds every record this writer
// acknowledged before the call (read-your-writes for audit search), or ctx
// ends. Without a journal records are in the store when acknowledged
// (sync) or within MaxDelay (async), and it returns at once.
func (w *Writer) WaitIndexed(ctx context.Context) error {
	ix := w.ix
	if ix == nil {
		return nil
	}
	target := ix.last.Load()
	if ix.pos.Load() < target {
		select {
		case ix.hurry <- struct{}{}:
		default:
		}
	}
	for {
		ix.mu.Lock()
		ch := ix.progress
		ix.mu.Unlock()
		if ix.pos.Load() >= target {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			cause := errors.New("the index is behind")
			if p := ix.lastErr.Load(); p != nil {
				cause = *p
			}
			return fmt.Errorf("audit: %d journaled records not yet searchable: %w", target-ix.pos.Load(), cause)
		case <-ix.done:
			return fmt.Errorf("audit: wait indexed: %w", ErrClosed)
		}
	}
}

// JournalStats describes the journal: zero without one.
type JournalStats struct {
	// Dir and ID name the journal.
	Dir, ID string
	// Journaled is the last journal entry written; Indexed the last one the
	// store holds. Backlog is the difference: records durable in the
	// journal and not yet searchable.
	Journaled, Indexed, Backlog int64
	// IndexedAt is when the indexer last committed (zero before the first).
	IndexedAt time.Time
	// IndexErr is the last index failure, nil after a success.
	IndexErr error
}

// Journal returns the journal's state; ok is false without a journal.
func (w *Writer) Journal() (s JournalStats, ok bool) {
	ix := w.ix
	if ix == nil {
		return JournalStats{}, false
	}
	s = JournalStats{Dir: ix.jr.Dir(), ID: ix.jr.ID(), Journaled: ix.last.Load(), Indexed: ix.pos.Load(),
		Backlog: ix.backlog.Load(), IndexedAt: lastCommit(ix.indexed.Load())}
	if p := ix.lastErr.Load(); p != nil {
		s.IndexErr = *p
	}
	return s, true
}
