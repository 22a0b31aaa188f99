// Package storage defines stepgate's persistence contract: the Store interface,
// the plain types that cross it, the sentinel errors callers branch on, and the
// canonical, versioned encoding that makes the audit trail tamper-evident.
//
// Store is the one seam to the database. It declares every persisted record
// once, as a plain type (PolicyRevision, Client, StepUpTransaction,
// AuditRecord, SessionLogout, SessionElevation, CIBAOffer, CIBARequest,
// AdminUser, PolicyApproval, RevisionActivation, and the admin UI's opaque
// sessions), and is composed of one small interface per record (Revisions,
// Clients, StepUps, Settings, AuditTrail, AuditStats, Logouts, Elevations,
// CIBAOffers, CIBARequests, AdminSessions, AdminUsers, PolicyApprovals,
// RevisionActivations) whose method
// comments are the contract. Transactions (Store.Atomic) runs several of
// them, audit appends included, as one database transaction: admin changes
// commit with their audit record or not at all.
//
// Data flows one way: the decision core never sees storage types;
// cmd/stepgate adapts a Store to the narrow interfaces the pdp packages
// declare (policy source, audit sink, step-up, CIBA and session stores).
// The admin logic names the parts of Store it uses.
//
// Implementations live in sub-packages: sqlstore (gorm on SQLite or PostgreSQL)
// is the production one. conformance holds the behavioural suite every
// implementation must pass, and audit holds the group-commit writer that feeds
// Store.AppendAudit from the decision path.
//
// Times cross the interface in UTC and round-trip at microsecond precision;
// implementations truncate to the microsecond before storing or hashing.
package storage
