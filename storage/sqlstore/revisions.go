package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/stepgate/stepgate/storage"
)

var revisionListColumns = []string{"id", "hash", "author", "message", "state", "created_at", "activated_at", "activated_by"}

// CreateRevision stores a new draft revision and returns it with its id.
func (s *Store) CreateRevision(ctx context.Context, r storage.PolicyRevision) (storage.PolicyRevision, error) {
	const op = "create revision"
	if len(r.Bundle) == 0 || r.Hash == "" {
		return storage.PolicyRevision{}, invalid(op, "bundle and hash are required")
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	row := revisionRow{
		Bundle: r.Bundle, Hash: r.Hash, Author: r.Author, Message: r.Message,
		State: storage.RevisionDraft, CreatedAt: toMicros(r.CreatedAt),
	}
	if err := s.w.WithContext(ctx).Create(&row).Error; err != nil {
		return storage.PolicyRevision{}, wrap(op, err)
	}
	return row.toRevision(), nil
}

// GetRevision returns one revision with its bundle.
func (s *Store) GetRevision(ctx context.Context, id int64) (storage.PolicyRevision, error) {
	var row revisionRow
	if err := s.r.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return storage.PolicyRevision{}, wrap("get revision", err)
	}
	return row.toRevision(), nil
}

// ListRevisions returns all revisions newest first, without bundles.
func (s *Store) ListRevisions(ctx context.Context) ([]storage.PolicyRevision, error) {
	var rows []revisionRow
	if err := s.r.WithContext(ctx).Select(revisionListColumns).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, wrap("list revisions", err)
	}
	out := make([]storage.PolicyRevision, len(rows))
	for i, row := range rows {
		out[i] = row.toRevision()
	}
	return out, nil
}

// ActiveRevision returns the active revision with its bundle.
func (s *Store) ActiveRevision(ctx context.Context) (storage.PolicyRevision, error) {
	var row revisionRow
	if err := s.r.WithContext(ctx).Take(&row, "state = ?", storage.RevisionActive).Error; err != nil {
		return storage.PolicyRevision{}, wrap("active revision", err)
	}
	return row.toRevision(), nil
}

// ActivateRevision archives the active revision and activates id in one
// transaction. On PostgreSQL concurrent activations serialise on an advisory
// lock; the partial unique index on state = 'active' backs that up, and a
// violation of it surfaces as storage.ErrConflict.
func (s *Store) ActivateRevision(ctx context.Context, id int64, actor string, at time.Time) (storage.PolicyRevision, error) {
	const op = "activate revision"
	var out revisionRow
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == Postgres {
			if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.policy_revisions'))`).Error; err != nil {
				return err
			}
		}
		if err := tx.Clauses(s.forUpdate()...).Take(&out, "id = ?", id).Error; err != nil {
			return err
		}
		if out.State == storage.RevisionActive {
			return nil
		}
		if err := tx.Model(&revisionRow{}).Where("state = ?", storage.RevisionActive).
			Update("state", storage.RevisionArchived).Error; err != nil {
			return err
		}
		us := toMicros(at)
		out.State, out.ActivatedAt, out.ActivatedBy = storage.RevisionActive, &us, actor
		return tx.Model(&revisionRow{}).Where("id = ?", id).Updates(map[string]any{
			"state": out.State, "activated_at": us, "activated_by": actor,
		}).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return storage.PolicyRevision{}, fmt.Errorf("sqlstore: %s: %w: %w", op, storage.ErrConflict, err)
	}
	if err != nil {
		return storage.PolicyRevision{}, wrap(op, err)
	}
	return out.toRevision(), nil
}

// forUpdate returns a row-locking clause where the dialect has one; SQLite
// needs none because its writes are serialised by BEGIN IMMEDIATE.
func (s *Store) forUpdate() []clause.Expression {
	if s.dialect == Postgres {
		return []clause.Expression{clause.Locking{Strength: clause.LockingStrengthUpdate}}
	}
	return nil
}

func (r revisionRow) toRevision() storage.PolicyRevision {
	return storage.PolicyRevision{
		ID: r.ID, Bundle: r.Bundle, Hash: r.Hash, Author: r.Author, Message: r.Message,
		State: r.State, CreatedAt: fromMicros(r.CreatedAt),
		ActivatedAt: fromMicrosPtr(r.ActivatedAt), ActivatedBy: r.ActivatedBy,
	}
}

// DeleteRevision removes a draft that was never active. The DELETE itself
// checks the state, so a revision activated concurrently (its row is
// locked by ActivateRevision until that commits) is never deleted.
func (s *Store) DeleteRevision(ctx context.Context, id int64) (storage.PolicyRevision, error) {
	const op = "delete revision"
	var row revisionRow
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Select(revisionListColumns).Take(&row, "id = ?", id).Error; err != nil {
			return err
		}
		if row.State != storage.RevisionDraft || row.ActivatedAt != nil {
			return storage.ErrWasActive
		}
		res := tx.Where("id = ? AND state = ? AND activated_at IS NULL", id, storage.RevisionDraft).Delete(&revisionRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return storage.ErrWasActive
		}
		return nil
	})
	if errors.Is(err, storage.ErrWasActive) {
		return storage.PolicyRevision{}, fmt.Errorf("sqlstore: %s %d: %w", op, id, err)
	}
	if err != nil {
		return storage.PolicyRevision{}, wrap(op, err)
	}
	return row.toRevision(), nil
}
