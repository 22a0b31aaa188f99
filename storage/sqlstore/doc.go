// Package sqlstore implements storage.Store with gorm on SQLite (the pure-Go
// github.com/glebarez/sqlite driver) or PostgreSQL (gorm.io/driver/postgres),
// chosen by the URL given to Open.
//
// Open connects, applies the versioned migrations of package schema inside one
// transaction (recorded in schema_migrations; no AutoMigrate), and returns a
// Store. gorm models are private to this package; callers see the plain types
// of package storage. Every timestamp is stored as BIGINT Unix microseconds
// (UTC) on both backends, so ordering and range queries behave identically
// and keyset pagination compares integers.
//
// SQLite runs in WAL mode with synchronous=FULL (an acknowledged audit record
// survives power loss, and group commit amortises the fsync), busy_timeout and
// foreign_keys, through two connection pools: one writer connection, because
// SQLite admits one writer at a time and serialising writers in Go avoids
// SQLITE_BUSY and lock-upgrade deadlocks, with BEGIN IMMEDIATE so that other
// processes on the same file (the CLI) queue on busy_timeout; and a small
// read-only pool, so a long audit export never blocks the writer. PostgreSQL
// uses one pool; cross-process races are settled by row locks, conditional
// updates and transaction-scoped advisory locks.
//
// The audit trail is appended in one transaction per batch, in plain
// database/sql without gorm: each record gets the next sequence number and
// the hash of storage.CanonicalAudit, and the chain head (audit_chains) is
// advanced by an UPDATE conditional on the head this store last committed;
// when another process moved it the head is locked and read and the batch
// relinked (auditheads.go). Rows go in as multi-row INSERT … RETURNING.
// CheckpointWAL lets the audit writer checkpoint SQLite's WAL beside the
// commit loop rather than inside a commit. VerifyAudit replays
// the chains in a read-only snapshot with storage.ChainVerifier and checks
// them against the stored heads.
package sqlstore
