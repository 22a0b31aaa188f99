// Package storage defines stepgate's persistence contract: the Store interface,
// the plain types that cross it, the sentinel errors callers branch on, and the
// canonical, versioned encoding that makes the audit trail tamper-evident.
//
// Data flows one way: the decision core and the admin logic never see storage
// types directly; cmd/stepgate adapts a Store to the narrow interfaces those
// packages declare (policy source, audit sink, step-up transaction store).
//
// Implementations live in sub-packages: sqlstore (gorm on SQLite or PostgreSQL)
// is the production one. conformance holds the behavioural suite every
// implementation must pass, and audit holds the group-commit writer that feeds
// Store.AppendAudit from the decision path.
//
// Times cross the interface in UTC and round-trip at microsecond precision;
// implementations truncate to the microsecond before storing or hashing.
package storage
