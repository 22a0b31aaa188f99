package storage

import "context"

// Transactions runs several store operations as one database transaction.
//
// Admin changes use it so that a change and the audit record that reports
// it commit together: a revision is never stored, activated or archived, a
// client never created, rotated or revoked, and a setting never replaced
// without its record in the trail, and a record never claims a change that
// did not happen.
type Transactions interface {
	// Atomic calls fn with a Store bound to one database transaction and
	// commits it when fn returns nil. When fn returns an error (or panics),
	// or the commit fails, everything fn did is rolled back and the error is
	// returned: fn's error as it is, a failed commit wrapped.
	//
	// Every method of tx runs inside the transaction and sees what fn wrote
	// before; other callers see none of it until the commit. tx.AppendAudit
	// chains its records onto the heads as the transaction sees them, so
	// records appended in a transaction that rolls back leave no gap in the
	// chain. A failed tx.AppendAudit changes nothing, but on PostgreSQL
	// another failed statement (a duplicate key, say) aborts the whole
	// transaction: fn must return such errors, not carry on.
	//
	// tx is valid only until fn returns and must not be used by other
	// goroutines meanwhile. Calling tx.Atomic runs the function with tx
	// itself (no nested commit); tx.Close fails. While fn runs, other
	// writers may wait for the transaction (SQLite has one writer), so fn
	// must not wait on anything that writes through the same store, such as
	// an audit writer.
	Atomic(ctx context.Context, fn func(tx Store) error) error
}
