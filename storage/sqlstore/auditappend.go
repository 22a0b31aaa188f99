package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// AppendAudit appends recs in one transaction. For every chain in the batch
// it takes the head row (created on first use), numbers the chain's records
// in slice order, links and hashes them, advances the head and inserts them.
// Heads are taken in chain id order so concurrent multi-chain batches cannot
// deadlock. On success the assigned ID, Seq, PrevHash, Hash and normalised
// content are written back into recs; on failure recs are unchanged.
//
// The path is plain database/sql on the writer pool, without gorm: a batch
// is one conditional UPDATE per chain (against the head this store last
// committed, see chainHeads) and one multi-row INSERT … RETURNING per chunk.
func (s *Store) AppendAudit(ctx context.Context, recs []storage.AuditRecord) error {
	return s.appendAudit(ctx, "append audit", recs, nil)
}

// journalMove is the position change of one audit journal that commits
// with a batch (AppendAuditJournaled).
type journalMove struct {
	id            string
	from, through int64
}

// appendAudit is AppendAudit, moving the journal position mv (when not nil)
// in the same transaction.
func (s *Store) appendAudit(ctx context.Context, op string, recs []storage.AuditRecord, mv *journalMove) error {
	if len(recs) == 0 && mv == nil {
		return nil
	}
	work := make([]storage.AuditRecord, len(recs))
	now := s.now()
	for i := range recs {
		r := &recs[i]
		if r.ChainID == "" || r.Kind == "" {
			return invalid(op, fmt.Sprintf("record %d: chain id and kind are required", i))
		}
		work[i] = sanitizeAudit(*r)
		if r.Time.IsZero() {
			work[i].Time = storage.NormalizeTime(now)
		}
	}
	db, err := s.w.DB()
	if err != nil {
		return wrap(op, err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return wrap(op, translate(s.w, err))
	}
	defer conn.Close()
	if err := s.configureWriterConn(ctx, conn); err != nil {
		return wrap(op, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, translate(s.w, err))
	}
	a := appender{ctx: ctx, conn: tx, dialect: s.dialect, heads: &s.heads}
	err = nil
	if len(work) > 0 {
		err = a.append(work)
	}
	if err == nil && mv != nil {
		err = a.moveJournal(*mv, s.now())
	}
	if err != nil {
		_ = tx.Rollback()
		return wrap(op, translate(s.w, err))
	}
	if err := tx.Commit(); err != nil {
		return wrap(op, translate(s.w, fmt.Errorf("commit: %w", err)))
	}
	s.heads.committed(a.advanced)
	copy(recs, work)
	return nil
}

// appendTx chains, inserts and links work inside the gorm transaction tx
// (retention's checkpoints), filling in the store-assigned fields of work.
// The heads it writes are not remembered: tx may still roll back, and the
// next AppendAudit then finds its remembered head outdated and re-reads it.
func (s *Store) appendTx(tx *gorm.DB, work []storage.AuditRecord) error {
	for i := range work {
		work[i] = sanitizeAudit(work[i])
	}
	a := appender{ctx: tx.Statement.Context, conn: tx.Statement.ConnPool, dialect: s.dialect, heads: &s.heads}
	return a.append(work)
}

// translate maps driver errors to gorm's translated errors (duplicate key,
// foreign key), as gorm does for every other store operation, so wrap can
// turn them into storage sentinels.
func translate(db *gorm.DB, err error) error {
	if t, ok := db.Dialector.(gorm.ErrorTranslator); ok {
		if te := t.Translate(err); te != err {
			return fmt.Errorf("%w: %w", te, err)
		}
	}
	return err
}

// sanitizeAudit normalises what the database could not store verbatim, so
// the hash is computed over exactly what is stored: times become UTC
// microseconds, and strings become valid UTF-8 without NUL bytes (PostgreSQL
// TEXT rejects both). Replaced bytes become U+FFFD. Strings that are already
// clean (nearly all) are kept without copying.
func sanitizeAudit(r storage.AuditRecord) storage.AuditRecord {
	r.Time = storage.NormalizeTime(r.Time)
	for _, p := range [...]*string{&r.ChainID, &r.Kind, &r.DecisionID, &r.RequestID, &r.ClientID,
		&r.Subject, &r.Issuer, &r.Action, &r.ResourceType, &r.ResourceID, &r.Outcome,
		&r.PolicyHash, &r.InputDigest, &r.StepUpID, &r.CIBAID, &r.Actor} {
		*p = cleanText(*p)
	}
	if r.Reasons != nil {
		reasons := make([]string, len(r.Reasons))
		for i, s := range r.Reasons {
			reasons[i] = cleanText(s)
		}
		r.Reasons = reasons
	}
	return r
}

func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
