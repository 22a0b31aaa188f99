package audit

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the writer's counters, for metrics. Counters only
// grow; QueueDepth is the current number of queued records.
type Stats struct {
	// Enqueued counts records accepted by Write.
	Enqueued uint64
	// Committed counts records whose transaction committed.
	Committed uint64
	// Batches counts committed transactions.
	Batches uint64
	// FailedAttempts counts append attempts that failed (each is retried
	// or reported).
	FailedAttempts uint64
	// SyncFailed counts sync records whose caller got an error because the
	// store failed; those callers fail closed.
	SyncFailed uint64
	// QueueFull counts Writes refused with ErrQueueFull.
	QueueFull uint64
	// Refused counts async records refused with ErrUnavailable because the
	// store had been failing for longer than the stall bound; those callers
	// fail closed.
	Refused uint64
	// Spilled counts acknowledged async records that Close wrote to a spill
	// file because the store did not take them before its deadline.
	Spilled uint64
	// Replayed counts records committed from spill files.
	Replayed uint64
	// Lost counts acknowledged records written nowhere: Close could not
	// spill them (no SpillDir, or the file write failed) or the store
	// rejected them as invalid. Each is also logged at error level with its
	// decision id and, when possible, named in the lost file (Unwritten). In
	// normal operation it stays 0.
	Lost uint64
	// Throttled is how long, in all, the commit goroutine waited for the
	// indexer because the journal was Config.IndexLead records ahead of the
	// index: time in which the store, not the journal, set the pace.
	Throttled time.Duration
	// QueueDepth is the number of records waiting now.
	QueueDepth int
	// LastCommit is when a batch last committed (by Config.Now); zero
	// before the first.
	LastCommit time.Time
}

type counters struct {
	enqueued, committed, batches, failedAttempts, syncFailed, queueFull atomic.Uint64
	refused, spilled, replayed, lost                                    atomic.Uint64
	lastCommit                                                          atomic.Int64 // Unix nanoseconds; 0 before the first commit
	throttled                                                           atomic.Int64 // nanoseconds
}

// Stats returns the current counters.
func (w *Writer) Stats() Stats {
	return Stats{
		Enqueued: w.c.enqueued.Load(), Committed: w.c.committed.Load(), Batches: w.c.batches.Load(),
		FailedAttempts: w.c.failedAttempts.Load(), SyncFailed: w.c.syncFailed.Load(),
		QueueFull: w.c.queueFull.Load(), Refused: w.c.refused.Load(), Spilled: w.c.spilled.Load(),
		Replayed: w.c.replayed.Load(), Lost: w.c.lost.Load(), QueueDepth: len(w.queue),
		Throttled: time.Duration(w.c.throttled.Load()), LastCommit: lastCommit(w.c.lastCommit.Load()),
	}
}

func lastCommit(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
