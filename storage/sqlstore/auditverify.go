package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// VerifyAudit replays every chain with storage.ChainVerifier inside one
// read-only snapshot (REPEATABLE READ on PostgreSQL, a read transaction on
// SQLite's WAL), so records committed during the walk cannot be mistaken
// for tampering. It then compares each chain's last record with the stored
// head, which reveals deleted tail records and chains that appeared without
// a head (inserted rows).
func (s *Store) VerifyAudit(ctx context.Context) (storage.VerifyReport, error) {
	return s.VerifyAnchored(ctx, nil)
}

// VerifyAnchored is VerifyAudit with the walk also checked against anchors
// (signed chain positions); nil anchors check nothing more.
func (s *Store) VerifyAnchored(ctx context.Context, anchors storage.Anchors) (storage.VerifyReport, error) {
	const op = "verify audit"
	var rep storage.VerifyReport
	err := s.r.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var heads []auditChainRow
		if err := tx.Order("chain_id").Find(&heads).Error; err != nil {
			return fmt.Errorf("read chain heads: %w", err)
		}
		rows, err := tx.Model(&auditRow{}).Select(auditColumns).Order("chain_id, seq").Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		v := storage.NewChainVerifier()
		if anchors != nil {
			v.Anchor(anchors)
			rep.Anchored = true
		}
		for rows.Next() {
			r, err := scanAudit(rows)
			if err != nil {
				return err
			}
			if b := v.Add(r); b != nil {
				rep.FirstBroken = b
				break
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rep.Checked = v.Checked()
		if rep.FirstBroken == nil {
			rep.FirstBroken = v.Finish()
		}
		if rep.FirstBroken == nil {
			rep.FirstBroken = compareHeads(heads, v.Heads())
		}
		rep.Chains = len(heads)
		if anchors != nil {
			rep.Unanchored = v.Unanchored()
		}
		if b := rep.FirstBroken; b != nil && b.ID == 0 {
			return nameRecord(tx, b)
		}
		return nil
	}, &sql.TxOptions{Isolation: s.snapshotIsolation(), ReadOnly: true})
	if err != nil {
		return storage.VerifyReport{}, wrap(op, err)
	}
	rep.OK = rep.FirstBroken == nil
	return rep, nil
}

// compareHeads checks the walked chains against the stored heads.
func compareHeads(stored []auditChainRow, walked map[string]storage.ChainHead) *storage.BrokenRecord {
	known := make(map[string]bool, len(stored))
	for _, h := range stored {
		known[h.ChainID] = true
		got, ok := walked[h.ChainID]
		switch {
		case !ok && h.LastSeq > 0:
			return &storage.BrokenRecord{ChainID: h.ChainID, Seq: h.LastSeq,
				Reason: fmt.Sprintf("chain head is at sequence %d but the chain has no records (deleted)", h.LastSeq)}
		case !ok:
		case got.Seq < h.LastSeq:
			return &storage.BrokenRecord{ChainID: h.ChainID, Seq: got.Seq + 1,
				Reason: fmt.Sprintf("records %d..%d after the last stored record are missing (deleted)", got.Seq+1, h.LastSeq)}
		case got.Seq > h.LastSeq:
			return &storage.BrokenRecord{ChainID: h.ChainID, Seq: h.LastSeq + 1,
				Reason: fmt.Sprintf("records after the chain head %d exist (inserted)", h.LastSeq)}
		case got.Hash != h.LastHash:
			return &storage.BrokenRecord{ChainID: h.ChainID, Seq: got.Seq,
				Reason: "last record's hash differs from the chain head (replaced)"}
		}
	}
	ids := make([]string, 0, len(walked))
	for id := range walked {
		if !known[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) > 0 {
		return &storage.BrokenRecord{ChainID: ids[0], Seq: 1,
			Reason: "records of a chain that has no head (inserted)"}
	}
	return nil
}

func (s *Store) snapshotIsolation() sql.IsolationLevel {
	if s.dialect == Postgres {
		return sql.LevelRepeatableRead
	}
	return sql.LevelDefault
}

// nameRecord fills in the row id and decision id of a defect found from the
// chain heads, where only the chain and sequence are known.
func nameRecord(tx *gorm.DB, b *storage.BrokenRecord) error {
	var rows []auditRow
	if err := tx.Select("id", "decision_id").Where("chain_id = ? AND seq >= ?", b.ChainID, b.Seq).
		Order("seq").Limit(1).Find(&rows).Error; err != nil {
		return fmt.Errorf("name broken record: %w", err)
	}
	if len(rows) == 1 {
		b.ID, b.DecisionID = rows[0].ID, rows[0].DecisionID
	}
	return nil
}

// AuditHeads reads every chain head from audit_chains.
func (s *Store) AuditHeads(ctx context.Context) ([]storage.ChainHead, error) {
	var rows []auditChainRow
	if err := s.r.WithContext(ctx).Order("chain_id").Find(&rows).Error; err != nil {
		return nil, wrap("audit heads", err)
	}
	out := make([]storage.ChainHead, 0, len(rows))
	for _, h := range rows {
		if h.LastSeq > 0 {
			out = append(out, storage.ChainHead{ChainID: h.ChainID, Seq: h.LastSeq, Hash: h.LastHash})
		}
	}
	return out, nil
}

// AuditHashAt reads the hash of one record by its chain position.
func (s *Store) AuditHashAt(ctx context.Context, chainID string, seq int64) (string, error) {
	var rows []auditRow
	if err := s.r.WithContext(ctx).Select("hash").Where("chain_id = ? AND seq = ?", chainID, seq).Limit(1).Find(&rows).Error; err != nil {
		return "", wrap("audit hash", err)
	}
	if len(rows) == 0 {
		return "", fmt.Errorf("sqlstore: audit hash of %s/%d: %w", chainID, seq, storage.ErrNotFound)
	}
	return rows[0].Hash, nil
}
