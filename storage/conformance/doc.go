// Package conformance is the behavioural contract of storage.Store: one suite
// that every backend must pass, in storage's own terms. A backend's test calls
// RunTests and RunConcurrencyTests with a function that opens a fresh, empty
// store; every subtest gets its own store, so subtests never see each other's
// data. sqlstore runs it on SQLite and on PostgreSQL.
//
// RunTests covers every record the store keeps, each method's results and
// sentinel errors: policy revisions (and the active-revision poll), clients,
// step-up transactions, settings, logout marks, session elevations (find,
// revoke by filter, sweep), CIBA offers (single start, expiry) and CIBA
// polling requests (lease-guarded updates, pending order, lease rules, the
// retention sweep), admin sessions, and the audit trail: chain assignment,
// search filters and keyset pagination, streaming export, verification,
// retention, the dashboard counts and WAL checkpoints.
//
// RunConcurrencyTests starts real goroutines against one store to prove the
// guarantees that matter under load: a step-up transaction is consumed
// exactly once, one revision is active, a client id is created once, a CIBA
// offer is started once, one replica wins a CIBA request's lease, and
// concurrent audit writers on different chains all verify.
//
// Adapters that translate these records into the decision core's types
// (cmd/stepgate) test the translation on top; the storage contract is here.
package conformance
