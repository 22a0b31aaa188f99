package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// Errors returned by Write. Callers on the decision path answer all of them
// with a deny (reason audit_unavailable).
var (
	// ErrQueueFull means the queue stayed full for EnqueueTimeout.
	ErrQueueFull = errors.New("audit: queue full")
	// ErrUnavailable means the store failed to commit a sync record, or, in
	// async mode, that the store has been failing for longer than the
	// writer may run ahead of it (Config.StallFactor).
	ErrUnavailable = errors.New("audit: store unavailable")
	// ErrClosed means the writer is closing or closed.
	ErrClosed = errors.New("audit: writer closed")
	// ErrInvalidRecord means the record lacks a kind.
	ErrInvalidRecord = errors.New("audit: invalid record")
)

// item is one queued record; done is nil for async records.
type item struct {
	rec  storage.AuditRecord
	done chan error
}

// Writer batches audit records into store transactions. It is safe for
// concurrent use.
type Writer struct {
	cfg   Config
	sync  bool
	queue chan *item
	c     counters

	// mu guards closed and the closing of queue: senders hold it shared.
	mu      sync.RWMutex
	closed  bool
	closing chan struct{}
	once    sync.Once

	// runCtx is cancelled when Close gives up, aborting commits and backoff.
	runCtx  context.Context
	abort   context.CancelFunc
	stopped chan struct{}
	lastErr atomic.Pointer[error]

	// stalledSince is the time (Unix nanoseconds, by Config.Now) of the
	// oldest uncommitted record once an append attempt failed, and 0 after a
	// commit succeeds. Async Write reads it on every call: one atomic load
	// while the store is healthy. stallBound is StallFactor × MaxDelay.
	stalledSince atomic.Int64
	stallBound   time.Duration

	// spillPending is set by run when spill files of this chain are waiting
	// for the store; run retries them after its next successful commit.
	spillPending bool

	// ckpt wakes the WAL checkpointer (nil without one); sinceCkpt counts
	// the store commits since the last wake-up. Whoever commits to the store
	// closes ckpt when it exits (run, or the indexer with a journal);
	// ckptDone closes when the checkpointer has stopped.
	ckpt      chan struct{}
	sinceCkpt atomic.Int64
	ckptDone  chan struct{}

	// ix indexes the journal into the store (nil without Config.JournalDir);
	// jbuf, jends and jentries are run's reused encoding buffers.
	ix       *indexer
	jbuf     []byte
	jends    []int
	jentries [][]byte

	// announced counts records promised by Announce and not yet released;
	// settled wakes a lingering sync batch when it drops to zero.
	announced atomic.Int64
	settled   chan struct{}
}

// NewWriter validates cfg, applies defaults and starts the commit goroutine.
func NewWriter(cfg Config) (*Writer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{
		cfg: cfg, sync: cfg.Mode == ModeSync, queue: make(chan *item, cfg.QueueSize),
		closing: make(chan struct{}), runCtx: ctx, abort: cancel, stopped: make(chan struct{}),
		ckptDone: make(chan struct{}), settled: make(chan struct{}, 1),
		stallBound: time.Duration(cfg.StallFactor) * cfg.MaxDelay,
	}
	w.startCheckpointer()
	if cfg.JournalDir != "" {
		if err := w.openIndexer(); err != nil {
			if w.ckpt != nil {
				close(w.ckpt)
				<-w.ckptDone
			}
			cancel()
			return nil, err
		}
	}
	go w.run()
	return w, nil
}

// Announce tells a sync writer that a record is on its way: a decision is
// being evaluated and will be written. Until release is called (right
// before the Write, or when the record will not come after all) a sync
// batch may wait up to SyncLinger for it, so that concurrent decisions
// share one commit. release is idempotent. Announcing is only a hint:
// correctness never depends on it (a writer that sees the release just
// before the record arrives commits without it, costing one more commit),
// and async writers ignore it.
func (w *Writer) Announce() (release func()) {
	if !w.sync || w.cfg.SyncLinger < 0 {
		return func() {}
	}
	w.announced.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			if w.announced.Add(-1) <= 0 {
				select {
				case w.settled <- struct{}{}:
				default:
				}
			}
		})
	}
}

// Write hands rec to the writer, stamping ChainID and, when zero, Time. In
// sync mode it returns after the record committed; in async mode once it
// is queued, unless the store has been failing for too long (ErrUnavailable)
// or the queue is full (ErrQueueFull). A nil error in either mode means the
// record will not be lost: it is committed, or spilled at Close (SpillDir).
func (w *Writer) Write(ctx context.Context, rec storage.AuditRecord) error {
	if rec.Kind == "" {
		return fmt.Errorf("audit: write: %w: empty kind", ErrInvalidRecord)
	}
	if err := w.refuseStalled(1); err != nil {
		return err
	}
	rec.ChainID = w.cfg.ChainID
	if rec.Time.IsZero() {
		rec.Time = w.cfg.Now()
	}
	it := &item{rec: rec}
	if w.sync {
		it.done = make(chan error, 1)
	}
	if err := w.enqueue(ctx, it); err != nil {
		return err
	}
	if !w.sync {
		return nil
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("audit: write: waiting for commit: %w", ctx.Err())
	}
}

// WriteBatch hands recs to the writer as Write does for each, queued back
// to back so that they normally share one transaction. In sync mode it
// returns after all of them committed. It fails if any record fails; the
// records queued before a failure are still committed, never lost.
func (w *Writer) WriteBatch(ctx context.Context, recs []storage.AuditRecord) error {
	for i := range recs {
		if recs[i].Kind == "" {
			return fmt.Errorf("audit: write: %w: record %d: empty kind", ErrInvalidRecord, i)
		}
	}
	if err := w.refuseStalled(len(recs)); err != nil {
		return err
	}
	var done chan error
	if w.sync {
		done = make(chan error, len(recs))
	}
	now := time.Time{}
	queued := 0
	var err error
	for _, rec := range recs {
		rec.ChainID = w.cfg.ChainID
		if rec.Time.IsZero() {
			if now.IsZero() {
				now = w.cfg.Now()
			}
			rec.Time = now
		}
		if err = w.enqueue(ctx, &item{rec: rec, done: done}); err != nil {
			break
		}
		queued++
	}
	if !w.sync {
		return err
	}
	for range queued {
		select {
		case e := <-done:
			if e != nil && err == nil {
				err = e
			}
		case <-ctx.Done():
			return fmt.Errorf("audit: write: waiting for commit: %w", ctx.Err())
		}
	}
	return err
}

func (w *Writer) enqueue(ctx context.Context, it *item) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return fmt.Errorf("audit: write: %w", ErrClosed)
	}
	select {
	case w.queue <- it:
		w.c.enqueued.Add(1)
		return nil
	default:
	}
	if !w.sync && w.stalledSince.Load() != 0 {
		// The queue is full because the store fails: waiting cannot help.
		w.c.queueFull.Add(1)
		return fmt.Errorf("audit: write: %w while the store is failing (%d records queued): %w", ErrQueueFull, len(w.queue), ErrUnavailable)
	}
	timer := time.NewTimer(w.cfg.EnqueueTimeout)
	defer timer.Stop()
	select {
	case w.queue <- it:
		w.c.enqueued.Add(1)
		return nil
	case <-timer.C:
		w.c.queueFull.Add(1)
		return fmt.Errorf("audit: write: %w after %s (%d records queued)", ErrQueueFull, w.cfg.EnqueueTimeout, len(w.queue))
	case <-ctx.Done():
		return fmt.Errorf("audit: write: waiting for queue space: %w", ctx.Err())
	case <-w.closing:
		return fmt.Errorf("audit: write: %w", ErrClosed)
	}
}

// Healthy returns the error of the last commit attempt, or nil when it
// succeeded (or none was made). With a journal it also fails while the
// backlog of records waiting for the database is at its bound, even before
// the indexer's attempt in progress has failed: the writer refuses records
// then, so the replica must not report ready. Use it for readiness.
func (w *Writer) Healthy() error {
	if p := w.lastErr.Load(); p != nil {
		return *p
	}
	if w.ix != nil {
		if p := w.ix.lastErr.Load(); p != nil {
			return *p
		}
		if backlog := w.ix.backlog.Load(); backlog >= int64(w.cfg.JournalBacklog) {
			return fmt.Errorf("audit: %w: %d journaled records wait for the database (bound %d)",
				ErrUnavailable, backlog, w.cfg.JournalBacklog)
		}
	}
	return nil
}

// refuseStalled returns ErrUnavailable for n async records while the store
// has been failing for longer than the stall bound, so that async mode
// answers as sync mode would instead of acknowledging records it may never
// commit. Sync writers are never refused here: their callers wait anyway.
func (w *Writer) refuseStalled(n int) error {
	if w.ix != nil {
		if err := w.ix.refuse(n); err != nil {
			return err
		}
	}
	since := w.stalledSince.Load()
	if since == 0 || w.sync {
		return nil
	}
	age := w.cfg.Now().Sub(time.Unix(0, since))
	if age <= w.stallBound {
		return nil
	}
	w.c.refused.Add(uint64(n))
	cause := errors.New("append failed")
	if err := w.Healthy(); err != nil {
		cause = err
	}
	return fmt.Errorf("audit: write: %w: the oldest uncommitted record has waited %s (bound %s): %w",
		ErrUnavailable, age.Round(time.Millisecond), w.stallBound, cause)
}

// Close stops accepting records and waits until every queued record is
// committed. If ctx ends first it aborts the commit in progress, fails
// waiting sync callers with ErrClosed and writes every uncommitted async
// record, all of them acknowledged, to a spill file in SpillDir, which the
// next writer of this chain replays. Only records that cannot be spilled
// either (no SpillDir, or the file write failed) are lost: counted in
// Stats.Lost, logged with their decision ids, named in the lost file when
// it can be written (see Unwritten), and reported in Close's error.
func (w *Writer) Close(ctx context.Context) error {
	w.once.Do(func() {
		close(w.closing)
		w.mu.Lock()
		w.closed = true
		close(w.queue)
		w.mu.Unlock()
	})
	select {
	case <-w.stopped:
	case <-ctx.Done():
		w.abort()
		<-w.stopped
	}
	var jerr error
	if w.ix != nil {
		jerr = w.closeIndexer(ctx)
	}
	<-w.ckptDone
	if jerr != nil {
		return jerr
	}
	if lost := w.c.lost.Load(); lost > 0 {
		return fmt.Errorf("audit: close: %d acknowledged records were written nowhere (logged, and named in the lost file when it could be written): %w", lost, ErrUnavailable)
	}
	return nil
}
