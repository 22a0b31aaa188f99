package storage

import (
	"context"
	"time"
)

// AuditTrail keeps the tamper-evident audit trail (AuditRecord), one hash
// chain per ChainID.
type AuditTrail interface {
	// AppendAudit appends a batch of records in one transaction. The store
	// assigns ID, Seq, PrevHash and Hash per ChainID (reading the chain head
	// inside the transaction, so it is correct across restarts and processes)
	// and writes them back into recs. Time is normalised to UTC microseconds
	// and set to now when zero. Either every record commits or none does.
	AppendAudit(ctx context.Context, recs []AuditRecord) error
	// SearchAudit returns one page of records matching q, newest first
	// (oldest first with q.OldestFirst), by keyset pagination on (Time, ID).
	SearchAudit(ctx context.Context, q AuditQuery) (AuditPage, error)
	// CountAudit counts the records matching q (ignoring Limit and Cursor),
	// but reads at most bound+1 of them: a count above bound is reported
	// as bound with More set. A bound that is not positive is ErrInvalid.
	CountAudit(ctx context.Context, q AuditQuery, bound int64) (AuditCount, error)
	// ExportAudit calls fn for every record matching q (ignoring Limit and
	// Cursor) while streaming rows from the database, so memory stays bounded.
	// An error from fn stops the export and is returned wrapped.
	ExportAudit(ctx context.Context, q AuditQuery, fn func(AuditRecord) error) error
	// VerifyAudit walks every chain in sequence order and reports the first
	// record whose content, order or link is wrong.
	VerifyAudit(ctx context.Context) (VerifyReport, error)
	// VerifyAnchored is VerifyAudit checked against signed chain positions
	// kept outside the database (see ChainVerifier.Anchor): it also finds
	// rewrites that left every chain consistent. Records after the last
	// signed position are listed in VerifyReport.Unanchored.
	VerifyAnchored(ctx context.Context, anchors Anchors) (VerifyReport, error)
	// AuditHeads returns the head (last sequence and hash) of every chain,
	// in chain id order, as the store records it.
	AuditHeads(ctx context.Context) ([]ChainHead, error)
	// AuditHashAt returns the Hash of record seq of chain chainID, or
	// ErrNotFound when it is not stored (never written, or removed by
	// retention).
	AuditHashAt(ctx context.Context, chainID string, seq int64) (string, error)
	// DeleteAuditBefore deletes, per chain, the longest prefix of records older
	// than before, then appends a checkpoint record to each trimmed chain so
	// the remaining chain still verifies. It returns how many records it deleted.
	DeleteAuditBefore(ctx context.Context, before time.Time) (int64, error)
	// CheckpointWAL moves committed writes from a write-ahead log into the
	// database proper, where the backend keeps one the application must
	// checkpoint (SQLite); elsewhere it does nothing and returns nil. It
	// never blocks writers, so the audit writer can call it beside commits.
	CheckpointWAL(ctx context.Context) error
}

// AuditJournals is how a store takes records from a local, durable audit
// journal (storage/journal) in the background: the journal's position
// moves in the same transaction as the records it covers, so that after a
// crash exactly the journaled records the store lacks are appended again,
// none twice.
type AuditJournals interface {
	// AuditJournalPosition returns the last journal sequence number of
	// journalID whose record the store committed, 0 when none.
	AuditJournalPosition(ctx context.Context, journalID string) (int64, error)
	// AppendAuditJournaled is AppendAudit for the journal entries from+1
	// through through of journalID, in one transaction that also moves the
	// journal's position from from to through. When the stored position is
	// not from (another process indexes the same journal, or the entries
	// were committed already), it appends nothing and fails with
	// ErrConflict. through must be greater than from; it is normally
	// from+len(recs), one record per journal entry.
	AppendAuditJournaled(ctx context.Context, journalID string, from, through int64, recs []AuditRecord) error
}

// AuditStats aggregates the audit trail in the database, so that the
// dashboard never loads the records it counts.
type AuditStats interface {
	// CountAuditBuckets counts records of kind with Time in [since, until)
	// per time bucket and Outcome. Buckets are keyed by their start in Unix
	// seconds, aligned to since; empty buckets are absent. A bucket that is
	// not positive is refused with ErrInvalid.
	CountAuditBuckets(ctx context.Context, kind string, since, until time.Time, bucket time.Duration) (map[int64]map[string]int64, error)
	// CountAuditByAction counts records of kind with Time in [since, until)
	// per Action and Outcome.
	CountAuditByAction(ctx context.Context, kind string, since, until time.Time) (map[string]map[string]int64, error)
}
