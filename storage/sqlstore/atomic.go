package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// Atomic runs fn against a store bound to one transaction on the writer
// pool and commits when fn returns nil (see storage.Transactions). Every
// method of the bound store goes through gorm on that transaction; the
// methods that open a transaction of their own (ActivateRevision, the
// use-once updates, retention) then nest as savepoints, so they keep their
// all-or-nothing behaviour inside the larger one.
func (s *Store) Atomic(ctx context.Context, fn func(tx storage.Store) error) error {
	var fnErr error
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fnErr = fn(s.bind(tx))
		return fnErr
	})
	switch {
	case err == nil:
		return nil
	case fnErr != nil:
		return fnErr
	default:
		return wrap("atomic", translate(s.w, err))
	}
}

// bind returns a store whose reads and writes all go to tx.
func (s *Store) bind(tx *gorm.DB) *txStore {
	return &txStore{Store: &Store{dialect: s.dialect, w: tx, r: tx, now: s.now, logger: s.logger}, root: s}
}

// txStore is a Store bound to one transaction. It overrides the methods
// that would otherwise leave it: AppendAudit (plain database/sql on the
// writer pool, committing on its own), Atomic, Ping, Close and
// CheckpointWAL.
type txStore struct {
	*Store
	// root is the store the transaction came from; its remembered chain
	// heads are read as hints but never advanced, because the transaction
	// may still roll back.
	root *Store
}

// AppendAudit appends recs inside the transaction, in a savepoint of their
// own: a failed append is undone at once, so the heads are never left half
// advanced even when the caller went on to commit.
func (t *txStore) AppendAudit(ctx context.Context, recs []storage.AuditRecord) error {
	const op = "append audit"
	if len(recs) == 0 {
		return nil
	}
	work := make([]storage.AuditRecord, len(recs))
	now := t.now()
	for i, r := range recs {
		if r.ChainID == "" || r.Kind == "" {
			return invalid(op, fmt.Sprintf("record %d: chain id and kind are required", i))
		}
		work[i] = r
		if r.Time.IsZero() {
			work[i].Time = now
		}
	}
	err := t.w.WithContext(ctx).Transaction(func(sp *gorm.DB) error {
		return t.root.appendTx(sp, work)
	})
	if err != nil {
		return wrap(op, translate(t.w, err))
	}
	copy(recs, work)
	return nil
}

// errJournalInTx is AppendAuditJournaled called inside Atomic.
var errJournalInTx = errors.New("sqlstore: append journaled audit: journal positions move in transactions of their own, not inside Atomic")

// AppendAuditJournaled refuses: the indexer of a journal commits on its
// own, and a position moved inside a larger transaction could roll back
// after the journal was released.
func (t *txStore) AppendAuditJournaled(context.Context, string, int64, int64, []storage.AuditRecord) error {
	return errJournalInTx
}

// Atomic runs fn in the transaction already open: there is one commit, the
// outermost.
func (t *txStore) Atomic(_ context.Context, fn func(tx storage.Store) error) error {
	return fn(t)
}

// Ping checks that the transaction's connection still answers.
func (t *txStore) Ping(ctx context.Context) error {
	if err := t.w.WithContext(ctx).Exec("SELECT 1").Error; err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// errCloseInTx is Close called on the store Atomic passed to its function.
var errCloseInTx = errors.New("sqlstore: close: the store is bound to a transaction; close the store it came from")

// Close refuses: the connections belong to the store Atomic was called on.
func (t *txStore) Close() error { return errCloseInTx }

// CheckpointWAL does nothing inside a transaction: a checkpoint cannot
// copy what is not committed yet, and the store outside runs its own.
func (t *txStore) CheckpointWAL(context.Context) error { return nil }

var _ storage.Store = (*txStore)(nil)
