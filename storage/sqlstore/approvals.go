package sqlstore

import (
	"context"
	"fmt"

	"github.com/stepgate/stepgate/storage"
)

// approvalRow is one four-eyes request.
type approvalRow struct {
	ID             int64 `gorm:"primaryKey;autoIncrement"`
	Kind           string
	RevisionID     int64
	BaseRevisionID int64
	Status         string
	RequestedBy    string
	RequestedLabel string
	Reason         string
	RequestedAt    int64
	ExpiresAt      int64
	DecidedBy      string
	DecidedLabel   string
	DecisionReason string
	DecidedAt      *int64
}

func (approvalRow) TableName() string { return "policy_approvals" }

func (r approvalRow) toApproval() storage.PolicyApproval {
	return storage.PolicyApproval{ID: r.ID, Kind: r.Kind, RevisionID: r.RevisionID, BaseRevisionID: r.BaseRevisionID,
		Status: r.Status, RequestedBy: r.RequestedBy, RequestedLabel: r.RequestedLabel, Reason: r.Reason,
		RequestedAt: fromMicros(r.RequestedAt), ExpiresAt: fromMicros(r.ExpiresAt),
		DecidedBy: r.DecidedBy, DecidedLabel: r.DecidedLabel, DecisionReason: r.DecisionReason, DecidedAt: fromMicrosPtr(r.DecidedAt)}
}

// CreateApproval stores a new pending request.
func (s *Store) CreateApproval(ctx context.Context, a storage.PolicyApproval) (storage.PolicyApproval, error) {
	const op = "create approval"
	if a.Kind != storage.ApprovalActivate && a.Kind != storage.ApprovalRollback {
		return storage.PolicyApproval{}, invalid(op, "unknown kind "+a.Kind)
	}
	if a.RevisionID <= 0 || a.RequestedBy == "" || a.ExpiresAt.IsZero() {
		return storage.PolicyApproval{}, invalid(op, "revision, requester and expiry are required")
	}
	if a.RequestedAt.IsZero() {
		a.RequestedAt = s.now()
	}
	row := approvalRow{Kind: a.Kind, RevisionID: a.RevisionID, BaseRevisionID: a.BaseRevisionID, Status: storage.ApprovalPending,
		RequestedBy: a.RequestedBy, RequestedLabel: a.RequestedLabel, Reason: a.Reason,
		RequestedAt: toMicros(a.RequestedAt), ExpiresAt: toMicros(a.ExpiresAt)}
	if err := s.w.WithContext(ctx).Create(&row).Error; err != nil {
		return storage.PolicyApproval{}, wrap(op, err)
	}
	return row.toApproval(), nil
}

// GetApproval returns one request.
func (s *Store) GetApproval(ctx context.Context, id int64) (storage.PolicyApproval, error) {
	var row approvalRow
	if err := s.r.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return storage.PolicyApproval{}, wrap("get approval", err)
	}
	return row.toApproval(), nil
}

// ListApprovals returns requests newest first.
func (s *Store) ListApprovals(ctx context.Context, status string, limit int) ([]storage.PolicyApproval, error) {
	q := s.r.WithContext(ctx).Order("id DESC")
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	var rows []approvalRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, wrap("list approvals", err)
	}
	out := make([]storage.PolicyApproval, len(rows))
	for i, r := range rows {
		out[i] = r.toApproval()
	}
	return out, nil
}

// DecideApproval ends a pending request. The UPDATE itself requires the
// pending status, so of concurrent deciders only one changes the row.
func (s *Store) DecideApproval(ctx context.Context, a storage.PolicyApproval) (storage.PolicyApproval, error) {
	const op = "decide approval"
	switch a.Status {
	case storage.ApprovalApproved, storage.ApprovalRejected, storage.ApprovalExpired:
	default:
		return storage.PolicyApproval{}, invalid(op, "a decision is approved, rejected or expired, not "+a.Status)
	}
	if a.DecidedBy == "" || a.DecidedAt == nil {
		return storage.PolicyApproval{}, invalid(op, "decider and time are required")
	}
	res := s.w.WithContext(ctx).Model(&approvalRow{}).Where("id = ? AND status = ?", a.ID, storage.ApprovalPending).
		Updates(map[string]any{"status": a.Status, "decided_by": a.DecidedBy, "decided_label": a.DecidedLabel,
			"decision_reason": a.DecisionReason, "decided_at": toMicros(*a.DecidedAt)})
	if res.Error != nil {
		return storage.PolicyApproval{}, wrap(op, res.Error)
	}
	got, err := s.GetApproval(ctx, a.ID)
	if err != nil {
		return storage.PolicyApproval{}, err
	}
	if res.RowsAffected != 1 {
		return got, fmt.Errorf("sqlstore: %s %d: it is %s already: %w", op, a.ID, got.Status, storage.ErrConflict)
	}
	return got, nil
}
