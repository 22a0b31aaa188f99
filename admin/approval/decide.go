package approval

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// Approve makes request id's revision active, as actor. shownActive is
// the revision the approver's page compared against (the one active then;
// 0 for none); gate, when not nil, says how the approver's own check was
// decided (the admin UI's break-glass rule for a rollback) and is recorded
// with the approval. The approval, the activation and their records
// commit in one transaction; nothing goes live when any check fails.
func (s *Service) Approve(ctx context.Context, actor string, id int64, reason string, shownActive int64, gate map[string]any) (storage.PolicyRevision, error) {
	reason = strings.TrimSpace(reason)
	a, detail, err := s.decidable(ctx, actor, ActionApprove, id, reason)
	if err != nil {
		return storage.PolicyRevision{}, err
	}
	if gate != nil {
		detail["gate"] = gate
	}
	if actor == a.RequestedBy {
		return storage.PolicyRevision{}, s.refuse(ctx, actor, ActionApprove, ErrSelfApproval, detail)
	}
	active, _, err := s.cfg.Store.ActiveRevisionID(ctx)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.PolicyRevision{}, fmt.Errorf("read active revision: %w", err)
	}
	if active != shownActive {
		detail["shown_active"], detail["active"] = shownActive, active
		return storage.PolicyRevision{}, s.refuse(ctx, actor, ActionApprove, ErrStale, detail)
	}
	now := s.cfg.Now()
	label := admin.ActorLabelFrom(ctx)
	rev, err := s.cfg.Policies.ActivateApproved(ctx, actor, a.RevisionID, a.Reason, admin.Approved{
		RequestID: a.ID, RequestedBy: a.RequestedBy, RequestedLabel: a.RequestedLabel, ApprovedLabel: label,
		Rollback: a.Kind == storage.ApprovalRollback,
		InTx: func(ctx context.Context, tx storage.Store) error {
			if _, err := tx.DecideApproval(ctx, storage.PolicyApproval{ID: a.ID, Status: storage.ApprovalApproved,
				DecidedBy: actor, DecidedLabel: label, DecisionReason: reason, DecidedAt: &now}); err != nil {
				return err
			}
			return s.cfg.Recorder.Change(ctx, tx, actor, ActionApprove, detail)
		},
	})
	if errors.Is(err, storage.ErrConflict) {
		return storage.PolicyRevision{}, s.refuse(ctx, actor, ActionApprove, ErrDecided, detail)
	}
	return rev, err
}

// Reject ends request id without activating anything. The requester may
// reject (withdraw) their own request.
func (s *Service) Reject(ctx context.Context, actor string, id int64, reason string) (storage.PolicyApproval, error) {
	reason = strings.TrimSpace(reason)
	a, detail, err := s.decidable(ctx, actor, ActionReject, id, reason)
	if err != nil {
		return storage.PolicyApproval{}, err
	}
	detail["withdrawn"] = actor == a.RequestedBy
	now := s.cfg.Now()
	err = s.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		var err error
		a, err = tx.DecideApproval(ctx, storage.PolicyApproval{ID: a.ID, Status: storage.ApprovalRejected,
			DecidedBy: actor, DecidedLabel: admin.ActorLabelFrom(ctx), DecisionReason: reason, DecidedAt: &now})
		if err != nil {
			return err
		}
		return s.cfg.Recorder.Change(ctx, tx, actor, ActionReject, detail)
	})
	if errors.Is(err, storage.ErrConflict) {
		return storage.PolicyApproval{}, s.refuse(ctx, actor, ActionReject, ErrDecided, detail)
	}
	return a, err
}

// decidable loads request id for a decision and refuses (recording it)
// one without a reason, decided already or expired.
func (s *Service) decidable(ctx context.Context, actor, what string, id int64, reason string) (storage.PolicyApproval, map[string]any, error) {
	detail := map[string]any{"approval": id, "reason": reason}
	a, err := s.Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return a, detail, s.refuse(ctx, actor, what, fmt.Errorf("%w: there is no approval request %d", admin.ErrInvalid, id), detail)
	}
	if err != nil {
		return a, detail, err
	}
	detail["kind"], detail["revision"], detail["requested_by"] = a.Kind, a.RevisionID, a.RequestedBy
	switch {
	case reason == "":
		return a, detail, s.refuse(ctx, actor, what, ErrNoReason, detail)
	case a.Status == storage.ApprovalExpired:
		return a, detail, s.refuse(ctx, actor, what, ErrExpired, detail)
	case a.Status != storage.ApprovalPending:
		return a, detail, s.refuse(ctx, actor, what, fmt.Errorf("%w (%s)", ErrDecided, a.Status), detail)
	}
	return a, detail, nil
}

// Expire marks every pending request whose time is up as expired, each
// with its record in the same transaction, and returns how many it
// expired. A request decided meanwhile by someone else is left to them.
func (s *Service) Expire(ctx context.Context) (int, error) {
	pending, err := s.cfg.Store.ListApprovals(ctx, storage.ApprovalPending, 0)
	if err != nil {
		return 0, fmt.Errorf("list pending approvals: %w", err)
	}
	now := s.cfg.Now()
	n := 0
	for _, a := range pending {
		if now.Before(a.ExpiresAt) {
			continue
		}
		err := s.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
			if _, err := tx.DecideApproval(ctx, storage.PolicyApproval{ID: a.ID, Status: storage.ApprovalExpired,
				DecidedBy: SystemActor, DecisionReason: "no decision within " + s.cfg.TTL.String(), DecidedAt: &now}); err != nil {
				return err
			}
			return s.cfg.Recorder.Change(ctx, tx, SystemActor, ActionExpire, map[string]any{"approval": a.ID, "kind": a.Kind,
				"revision": a.RevisionID, "requested_by": a.RequestedBy, "expires_at": a.ExpiresAt})
		})
		switch {
		case errors.Is(err, storage.ErrConflict):
		case err != nil:
			return n, fmt.Errorf("expire approval %d: %w", a.ID, err)
		default:
			n++
		}
	}
	return n, nil
}
