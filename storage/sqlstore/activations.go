package sqlstore

import (
	"context"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// activationRow is one period of a revision's activity.
type activationRow struct {
	ID             int64 `gorm:"primaryKey;autoIncrement"`
	RevisionID     int64
	Kind           string
	ActivatedAt    int64
	ActivatedBy    string
	ActivatedLabel string
	Reason         string
	ApprovalID     int64
	ApprovedBy     string
	ApprovedLabel  string
	EndedAt        *int64
}

func (activationRow) TableName() string { return "policy_activations" }

func (r activationRow) toActivation() storage.RevisionActivation {
	return storage.RevisionActivation{ID: r.ID, RevisionID: r.RevisionID, Kind: r.Kind, ActivatedAt: fromMicros(r.ActivatedAt),
		ActivatedBy: r.ActivatedBy, ActivatedLabel: r.ActivatedLabel, Reason: r.Reason, ApprovalID: r.ApprovalID,
		ApprovedBy: r.ApprovedBy, ApprovedLabel: r.ApprovedLabel, EndedAt: fromMicrosPtr(r.EndedAt)}
}

// AppendActivation closes the open period and opens a's, in one
// transaction (a savepoint inside Atomic). On PostgreSQL it serialises on
// ActivateRevision's advisory lock (which the activation's transaction
// already holds), so concurrent appends cannot leave two periods open.
func (s *Store) AppendActivation(ctx context.Context, a storage.RevisionActivation) (storage.RevisionActivation, error) {
	const op = "append activation"
	if a.RevisionID <= 0 || a.ActivatedAt.IsZero() || a.Kind == "" {
		return storage.RevisionActivation{}, invalid(op, "revision, time and kind are required")
	}
	at := toMicros(a.ActivatedAt)
	row := activationRow{RevisionID: a.RevisionID, Kind: a.Kind, ActivatedAt: at, ActivatedBy: a.ActivatedBy,
		ActivatedLabel: a.ActivatedLabel, Reason: a.Reason, ApprovalID: a.ApprovalID, ApprovedBy: a.ApprovedBy,
		ApprovedLabel: a.ApprovedLabel}
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == Postgres {
			if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.policy_revisions'))`).Error; err != nil {
				return err
			}
		}
		if err := tx.Model(&activationRow{}).Where("ended_at IS NULL").Update("ended_at", at).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return storage.RevisionActivation{}, wrap(op, err)
	}
	return row.toActivation(), nil
}

// ListActivations returns periods newest first.
func (s *Store) ListActivations(ctx context.Context, revisionID int64) ([]storage.RevisionActivation, error) {
	q := s.r.WithContext(ctx).Order("activated_at DESC, id DESC")
	if revisionID > 0 {
		q = q.Where("revision_id = ?", revisionID)
	}
	var rows []activationRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, wrap("list activations", err)
	}
	out := make([]storage.RevisionActivation, len(rows))
	for i, r := range rows {
		out[i] = r.toActivation()
	}
	return out, nil
}
