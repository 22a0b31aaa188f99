// Package audit is the group-commit writer between the decision path and
// the audit trail. Producers call Writer.Write with one record; one
// goroutine takes records off a bounded queue, gathers up to MaxBatch of
// them and appends them to the store in one transaction, where the store
// links them into this writer's hash chain in queue order.
//
// In sync mode Write returns only after the record's transaction committed,
// or with an error the caller must treat as "audit unavailable" and fail
// closed. In async mode Write returns once the record is queued; the writer
// commits it within MaxDelay while the database is healthy and keeps
// retrying with backoff while it is not. When the queue is full, Write
// waits up to EnqueueTimeout and then returns ErrQueueFull: backpressure,
// never a silent drop.
//
// Async mode never runs far ahead of a failing store: once an append
// attempt failed and the oldest uncommitted record is older than
// StallFactor × MaxDelay, or the queue is full, Write refuses at once, so
// the decision path denies as it would in sync mode. An acknowledged async
// record is never dropped: Close waits for it, and when the store still
// fails at Close's deadline, Close writes the records to a fsynced spill
// file in SpillDir (spill.go) that the next writer of the chain replays
// before anything else (replay.go). A record that cannot be spilled either
// is counted as lost, logged with its decision id and named in a lost file;
// Unwritten lists both kinds for `stepgate audit verify`.
//
// WriteBatch queues several records back to back (a /v1/decisions call), so
// they normally share one transaction, and in sync mode waits for all.
//
// Sync batches never linger: a batch is whatever queued while the previous
// one committed. When the store keeps a write-ahead log (sqlstore on
// SQLite), a second goroutine checkpoints it every few batches, so no
// commit, and no sync caller waiting on one, pays for copying the log into
// the database file.
//
// Close stops intake and drains the queue (or spills it). Stats exposes
// counters and the queue depth for metrics; Healthy reports whether the
// last commit failed.
package audit
