package audit

import "sync/atomic"

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
	// Lost counts acknowledged async records that were not committed
	// because Close gave up while the store was failing. Each loss is also
	// logged at error level; in normal operation it stays 0.
	Lost uint64
	// QueueDepth is the number of records waiting now.
	QueueDepth int
}

type counters struct {
	enqueued, committed, batches, failedAttempts, syncFailed, queueFull, lost atomic.Uint64
}

// Stats returns the current counters.
func (w *Writer) Stats() Stats {
	return Stats{
		Enqueued: w.c.enqueued.Load(), Committed: w.c.committed.Load(), Batches: w.c.batches.Load(),
		FailedAttempts: w.c.failedAttempts.Load(), SyncFailed: w.c.syncFailed.Load(),
		QueueFull: w.c.queueFull.Load(), Lost: w.c.lost.Load(), QueueDepth: len(w.queue),
	}
}
