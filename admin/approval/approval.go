package approval

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// Actions recorded in the admin audit trail.
const (
	ActionRequest = "policy.approval.request"
	ActionApprove = "policy.approval.approve"
	ActionReject  = "policy.approval.reject"
	ActionExpire  = "policy.approval.expire"
)

// SystemActor is the actor of expiries.
const SystemActor = "system:approvals"

// DefaultTTL is how long a request waits for a decision by default.
const DefaultTTL = 24 * time.Hour

// Errors callers branch on; each wraps admin.ErrInvalid, so its message is
// for the person who tried.
var (
	ErrSelfApproval = fmt.Errorf("%w: a different admin must approve this request; you asked for it", admin.ErrInvalid)
	ErrDecided      = fmt.Errorf("%w: this request was decided already", admin.ErrInvalid)
	ErrExpired      = fmt.Errorf("%w: this request has expired; ask again", admin.ErrInvalid)
	ErrStale        = fmt.Errorf("%w: another revision became active since this page was shown; review the change again", admin.ErrInvalid)
	ErrNoReason     = fmt.Errorf("%w: give a reason (it goes into the admin audit trail)", admin.ErrInvalid)
)

// Store is what requests live in.
type Store interface {
	storage.PolicyApprovals
	ActiveRevisionID(ctx context.Context) (int64, string, error)
	Atomic(ctx context.Context, fn func(tx storage.Store) error) error
}

// Activator validates and activates revisions; *admin.Policies is one.
type Activator interface {
	CheckActivatable(ctx context.Context, actor string, id int64, reason, what string) error
	RollbackTarget(ctx context.Context) (storage.PolicyRevision, error)
	ActivateApproved(ctx context.Context, actor string, id int64, reason string, ap admin.Approved) (storage.PolicyRevision, error)
}

// Config wires a Service.
type Config struct {
	Store    Store
	Policies Activator
	Recorder *admin.Recorder
	// TTL is how long a request waits before it expires; DefaultTTL.
	TTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service runs four-eyes requests.
type Service struct{ cfg Config }

// New validates cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Policies == nil || cfg.Recorder == nil {
		return nil, errors.New("approval: Store, Policies and Recorder are required")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}, nil
}

// TTL is how long a request waits.
func (s *Service) TTL() time.Duration { return s.cfg.TTL }

// Request asks for revision id to become active (kind
// storage.ApprovalActivate), or for a rollback (storage.ApprovalRollback)
// to expect, the rollback target the person was shown (see
// admin.RollbackOptions.Expect). The revision is validated first; the
// request and its record commit together.
func (s *Service) Request(ctx context.Context, actor, kind string, id int64, reason string) (storage.PolicyApproval, error) {
	reason = strings.TrimSpace(reason)
	detail := map[string]any{"kind": kind, "revision": id, "reason": reason}
	if reason == "" {
		return storage.PolicyApproval{}, s.refuse(ctx, actor, ActionRequest, ErrNoReason, detail)
	}
	if kind == storage.ApprovalRollback {
		target, err := s.cfg.Policies.RollbackTarget(ctx)
		if errors.Is(err, admin.ErrNoPrevious) {
			return storage.PolicyApproval{}, s.refuse(ctx, actor, ActionRequest, err, detail)
		}
		if err != nil {
			return storage.PolicyApproval{}, err
		}
		if target.ID != id {
			detail["target"] = target.ID
			return storage.PolicyApproval{}, s.refuse(ctx, actor, ActionRequest,
				fmt.Errorf("%w: revision %d was shown, revision %d would become active; review it again", admin.ErrTargetMoved, id, target.ID), detail)
		}
	} else if kind != storage.ApprovalActivate {
		return storage.PolicyApproval{}, fmt.Errorf("approval: unknown kind %q", kind)
	}
	base, _, err := s.cfg.Store.ActiveRevisionID(ctx)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.PolicyApproval{}, fmt.Errorf("read active revision: %w", err)
	}
	detail["base"] = base
	if base == id {
		return storage.PolicyApproval{}, s.refuse(ctx, actor, ActionRequest, fmt.Errorf("%w: revision %d is active already", admin.ErrInvalid, id), detail)
	}
	if err := s.cfg.Policies.CheckActivatable(ctx, actor, id, reason, ActionRequest); err != nil {
		return storage.PolicyApproval{}, err
	}
	now := s.cfg.Now()
	var a storage.PolicyApproval
	err = s.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		var err error
		a, err = tx.CreateApproval(ctx, storage.PolicyApproval{Kind: kind, RevisionID: id, BaseRevisionID: base,
			RequestedBy: actor, RequestedLabel: admin.ActorLabelFrom(ctx), Reason: reason, RequestedAt: now, ExpiresAt: now.Add(s.cfg.TTL)})
		if err != nil {
			return fmt.Errorf("store approval request: %w", err)
		}
		detail["approval"], detail["expires_at"] = a.ID, a.ExpiresAt.Format(time.RFC3339)
		return s.cfg.Recorder.Change(ctx, tx, actor, ActionRequest, detail)
	})
	if err != nil {
		return storage.PolicyApproval{}, err
	}
	return a, nil
}

// Get returns request id, expiring it first when its time is up.
func (s *Service) Get(ctx context.Context, id int64) (storage.PolicyApproval, error) {
	if _, err := s.Expire(ctx); err != nil {
		return storage.PolicyApproval{}, err
	}
	return s.cfg.Store.GetApproval(ctx, id)
}

// List returns requests newest first (status "" for all), after expiring
// those whose time is up.
func (s *Service) List(ctx context.Context, status string, limit int) ([]storage.PolicyApproval, error) {
	if _, err := s.Expire(ctx); err != nil {
		return nil, err
	}
	return s.cfg.Store.ListApprovals(ctx, status, limit)
}

// refuse records that actor's what was refused and returns the refusal,
// joined with the failure to record it if there was one.
func (s *Service) refuse(ctx context.Context, actor, what string, refusal error, detail map[string]any) error {
	if err := s.cfg.Recorder.Refused(ctx, actor, what, refusal.Error(), detail); err != nil {
		return errors.Join(refusal, err)
	}
	return refusal
}
