package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stepgate/stepgate/storage"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// appendBatchRows bounds the rows of one INSERT statement so its bind
// parameters (26 per row) stay well under both backends' limits.
const appendBatchRows = 250

// AppendAudit appends recs in one transaction. For every chain in the batch
// it locks the head row (created on first use), numbers the chain's records
// in slice order, links and hashes them, inserts them and advances the head.
// Heads are locked in chain id order so concurrent multi-chain batches cannot
// deadlock. On success the assigned ID, Seq, PrevHash, Hash and normalised
// content are written back into recs; on failure recs are unchanged.
func (s *Store) AppendAudit(ctx context.Context, recs []storage.AuditRecord) error {
	const op = "append audit"
	if len(recs) == 0 {
		return nil
	}
	work := make([]storage.AuditRecord, len(recs))
	now := s.now()
	for i, r := range recs {
		if r.ChainID == "" || r.Kind == "" {
			return invalid(op, fmt.Sprintf("record %d: chain id and kind are required", i))
		}
		if r.Time.IsZero() {
			r.Time = now
		}
		work[i] = sanitizeAudit(r)
	}
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.appendTx(tx, work)
	})
	if err != nil {
		return wrap(op, err)
	}
	copy(recs, work)
	return nil
}

// appendTx chains, inserts and links work inside tx, filling in the
// store-assigned fields of work.
func (s *Store) appendTx(tx *gorm.DB, work []storage.AuditRecord) error {
	heads, err := s.lockChainHeads(tx, work)
	if err != nil {
		return err
	}
	rows := make([]auditRow, len(work))
	for i := range work {
		h := heads[work[i].ChainID]
		work[i].Seq, work[i].PrevHash = h.LastSeq+1, h.LastHash
		work[i].ID = 0
		work[i].Hash = storage.ComputeAuditHash(work[i])
		h.LastSeq, h.LastHash = work[i].Seq, work[i].Hash
		if rows[i], err = auditToRow(work[i]); err != nil {
			return err
		}
	}
	if err := tx.CreateInBatches(rows, appendBatchRows).Error; err != nil {
		return fmt.Errorf("insert records: %w", err)
	}
	for i := range rows {
		work[i].ID = rows[i].ID
	}
	for _, h := range heads {
		if err := tx.Model(&auditChainRow{}).Where("chain_id = ?", h.ChainID).
			Updates(map[string]any{"last_seq": h.LastSeq, "last_hash": h.LastHash}).Error; err != nil {
			return fmt.Errorf("advance chain head %q: %w", h.ChainID, err)
		}
	}
	return nil
}

// lockChainHeads creates missing head rows and locks every head the batch
// touches until the transaction ends.
func (s *Store) lockChainHeads(tx *gorm.DB, recs []storage.AuditRecord) (map[string]*auditChainRow, error) {
	ids := make([]string, 0, 1)
	for _, r := range recs {
		if !slices.Contains(ids, r.ChainID) {
			ids = append(ids, r.ChainID)
		}
	}
	slices.Sort(ids)
	heads := make(map[string]*auditChainRow, len(ids))
	for _, id := range ids {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&auditChainRow{ChainID: id}).Error; err != nil {
			return nil, fmt.Errorf("create chain head %q: %w", id, err)
		}
		var h auditChainRow
		if err := tx.Clauses(s.forUpdate()...).Take(&h, "chain_id = ?", id).Error; err != nil {
			return nil, fmt.Errorf("lock chain head %q: %w", id, err)
		}
		heads[id] = &h
	}
	return heads, nil
}

// sanitizeAudit normalises what the database could not store verbatim, so
// the hash is computed over exactly what is stored: times become UTC
// microseconds, and strings become valid UTF-8 without NUL bytes (PostgreSQL
// TEXT rejects both). Replaced bytes become U+FFFD.
func sanitizeAudit(r storage.AuditRecord) storage.AuditRecord {
	r.Time = storage.NormalizeTime(r.Time)
	for _, p := range []*string{&r.ChainID, &r.Kind, &r.DecisionID, &r.RequestID, &r.ClientID,
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
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
