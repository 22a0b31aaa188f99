package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// RetentionActor is the Actor of checkpoint records written by retention.
const RetentionActor = "stepgate-retention"

// DeleteAuditBefore trims every chain in one transaction. Per chain it
// deletes the longest prefix of records older than before (stopping at the
// first record at or after the cut-off, so a chain is only ever shortened
// from its start and stays contiguous), then appends a checkpoint record
// whose Detail (storage.Checkpoint) names the last deleted record and its
// hash: the link the first remaining record still carries. The chain heads
// are locked for the duration, so appends wait rather than interleave.
func (s *Store) DeleteAuditBefore(ctx context.Context, before time.Time) (int64, error) {
	const op = "delete audit before"
	cut := toMicros(before)
	now := storage.NormalizeTime(s.now())
	var total int64
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var heads []auditChainRow
		if err := tx.Clauses(s.forUpdate()...).Order("chain_id").Find(&heads).Error; err != nil {
			return fmt.Errorf("lock chain heads: %w", err)
		}
		var checkpoints []storage.AuditRecord
		for _, h := range heads {
			cp, err := trimChain(tx, h, cut)
			if err != nil {
				return fmt.Errorf("chain %q: %w", h.ChainID, err)
			}
			if cp.Deleted == 0 {
				continue
			}
			total += cp.Deleted
			cp.Before = storage.NormalizeTime(before)
			detail, err := json.Marshal(cp)
			if err != nil {
				return fmt.Errorf("encode checkpoint: %w", err)
			}
			checkpoints = append(checkpoints, storage.AuditRecord{
				ChainID: h.ChainID, Time: now, Kind: storage.KindCheckpoint, Actor: RetentionActor,
				Outcome: "retention", Detail: detail,
			})
		}
		if len(checkpoints) == 0 {
			return nil
		}
		return s.appendTx(tx, checkpoints)
	})
	if err != nil {
		return 0, wrap(op, err)
	}
	return total, nil
}

// trimChain deletes the chain's old prefix and describes what it removed.
func trimChain(tx *gorm.DB, h auditChainRow, cut int64) (storage.Checkpoint, error) {
	var keepFrom *int64
	if err := tx.Model(&auditRow{}).Select("MIN(seq)").
		Where("chain_id = ? AND ts >= ?", h.ChainID, cut).Scan(&keepFrom).Error; err != nil {
		return storage.Checkpoint{}, fmt.Errorf("find cut-off: %w", err)
	}
	through := h.LastSeq
	if keepFrom != nil {
		through = *keepFrom - 1
	}
	var last auditRow
	err := tx.Select("seq", "hash").Where("chain_id = ? AND seq = ?", h.ChainID, through).Take(&last).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Nothing older than the cut-off remains (already trimmed, or empty).
		return storage.Checkpoint{}, nil
	}
	if err != nil {
		return storage.Checkpoint{}, fmt.Errorf("read record %d: %w", through, err)
	}
	res := tx.Where("chain_id = ? AND seq <= ?", h.ChainID, through).Delete(&auditRow{})
	if res.Error != nil {
		return storage.Checkpoint{}, fmt.Errorf("delete through %d: %w", through, res.Error)
	}
	return storage.Checkpoint{DeletedThroughSeq: through, DeletedThroughHash: last.Hash, Deleted: res.RowsAffected}, nil
}
