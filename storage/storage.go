package storage

import (
	"context"
	"time"
)

// Store is stepgate's persistent state: every record stepgate keeps, behind
// one interface with two backends (sqlstore on SQLite and on PostgreSQL) and
// one conformance suite (storage/conformance). It is composed of one small
// interface per record so that a caller needing one record can name just
// that part; cmd/stepgate adapts it to the interfaces the decision core and
// the admin logic declare.
//
// Every method takes a context first and returns errors wrapping the package
// sentinels where callers need to branch. Implementations must be safe for
// concurrent use by many goroutines and, for shared databases, by many
// processes.
type Store interface {
	Revisions
	Clients
	StepUps
	Settings
	AuditTrail
	AuditJournals
	AuditStats
	Logouts
	Elevations
	CIBAOffers
	CIBARequests
	AdminSessions
	AdminUsers
	PolicyApprovals
	RevisionActivations
	SavedSearches
	Transactions

	// DeleteCIBABefore removes ended CIBA requests (every status but
	// pending) and the offers no request refers to, created before the
	// cut-off, and returns how many it removed. Pending requests stay until
	// they end, so a sweep never cuts a login short.
	DeleteCIBABefore(ctx context.Context, before time.Time) (int64, error)

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database connections.
	Close() error
}
