package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// AuditJournalPosition returns how far journalID has been committed.
func (s *Store) AuditJournalPosition(ctx context.Context, journalID string) (int64, error) {
	const op = "audit journal position"
	if journalID == "" {
		return 0, invalid(op, "journal id is required")
	}
	var pos int64
	err := s.r.WithContext(ctx).Raw(`SELECT position FROM audit_journal_positions WHERE journal_id = ?`, journalID).Row().Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap(op, err)
	}
	return pos, nil
}

// AppendAuditJournaled appends recs and moves journalID's position from
// from to through in one transaction (see storage.AuditJournals).
func (s *Store) AppendAuditJournaled(ctx context.Context, journalID string, from, through int64, recs []storage.AuditRecord) error {
	const op = "append journaled audit"
	switch {
	case journalID == "":
		return invalid(op, "journal id is required")
	case from < 0 || through <= from:
		return invalid(op, fmt.Sprintf("journal range %d..%d is empty or negative", from, through))
	case int64(len(recs)) > through-from:
		return invalid(op, fmt.Sprintf("%d records for the %d journal entries %d..%d", len(recs), through-from, from+1, through))
	}
	return s.appendAudit(ctx, op, recs, &journalMove{id: journalID, from: from, through: through})
}

// moveJournal moves a journal's position inside the append's transaction,
// and fails with storage.ErrConflict unless it stood at mv.from: a journal
// is taken by one indexer, and no entry is committed twice.
func (a *appender) moveJournal(mv journalMove, now time.Time) error {
	var (
		res sql.Result
		err error
	)
	if mv.from == 0 {
		res, err = a.conn.ExecContext(a.ctx, a.sql(`INSERT INTO audit_journal_positions (journal_id, position, updated_at)
			VALUES (?, ?, ?) ON CONFLICT (journal_id) DO NOTHING`), mv.id, mv.through, toMicros(now))
	} else {
		res, err = a.conn.ExecContext(a.ctx, a.sql(`UPDATE audit_journal_positions SET position = ?, updated_at = ?
			WHERE journal_id = ? AND position = ?`), mv.through, toMicros(now), mv.id, mv.from)
	}
	if err != nil {
		return fmt.Errorf("move journal %q to %d: %w", mv.id, mv.through, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("move journal %q to %d: %w", mv.id, mv.through, err)
	}
	if n != 1 {
		return fmt.Errorf("move journal %q from %d to %d: %w: the stored position is not %d", mv.id, mv.from, mv.through, storage.ErrConflict, mv.from)
	}
	return nil
}
