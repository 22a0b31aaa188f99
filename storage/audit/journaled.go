package audit

import (
	"context"
	"errors"
	"fmt"
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
// While the store keeps up, the journal runs at most Config.IndexLead
// records ahead of the index: beyond that run waits for the indexer, so a
// sustained load runs at the indexing rate. While the store fails, the
// journal runs ahead up to Config.JournalBacklog records: beyond that Write
// refuses (ErrUnavailable), so a store that is down for long makes
// decisions deny, as without a journal, instead of growing without bound.
// The indexer keeps at most IndexLead records in memory and reads the rest
// back from the journal (indexer.go).

// JournalStore is what the indexer needs of the store.
type JournalStore interface {
	storage.AuditJournals
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
	ix := &indexer{w: w, jr: jr, store: store, replayUntil: int64(jr.Last()), onDisk: pos < int64(jr.Last()),
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
	w.ix.throttle(w.runCtx)
	return nil
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
// (sync) or within MaxDelay (async), and it returns at once. In async mode
// it does not wait for records still queued (not yet journaled, at most
// MaxDelay/2): they are searchable within MaxDelay plus the indexing lag.
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
