package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

// CheckActivatable validates revision id as an activation would (it
// exists, compiles and passes its tests) without activating it; a refusal
// is recorded as actor's what. A four-eyes request is checked so before it
// is stored, and again when approved.
func (p *Policies) CheckActivatable(ctx context.Context, actor string, id int64, reason, what string) error {
	return p.checkActivatable(ctx, actor, id, reason, what, nil)
}

func (p *Policies) checkActivatable(ctx context.Context, actor string, id int64, reason, what string, extra map[string]any) error {
	detail := map[string]any{"revision": id, "reason": reason}
	maps.Copy(detail, extra)
	rev, err := p.cfg.Store.GetRevision(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return p.refuse(ctx, actor, what, fmt.Errorf("revision %d: %w", id, err), detail)
	}
	if err != nil {
		return fmt.Errorf("revision %d: %w", id, err)
	}
	detail["hash"] = rev.Hash
	files, err := policy.ReadTarball(rev.Bundle)
	if err != nil {
		return fmt.Errorf("revision %d: %w", id, err)
	}
	v, err := p.Validate(ctx, files)
	if errors.Is(err, ErrInvalid) {
		return p.refuse(ctx, actor, what, fmt.Errorf("revision %d: %w", id, err), detail)
	}
	if err != nil {
		return err
	}
	if v.Compile != nil {
		return p.refuse(ctx, actor, what, fmt.Errorf("%w: revision %d: %v", ErrInvalid, id, v.Compile), detail)
	}
	if v.Failed > 0 {
		detail["tests_passed"], detail["tests_failed"] = v.Passed, v.Failed
		return p.refuse(ctx, actor, what,
			fmt.Errorf("%w: revision %d: %d of %d failed", ErrTestsFailed, id, v.Failed, len(v.Tests)), detail)
	}
	return nil
}

// Approved is the four-eyes side of an activation: the request that asked
// for it and the admin who approved it.
type Approved struct {
	// RequestID is the approval request's id.
	RequestID int64
	// RequestedBy and RequestedLabel are the requester, whom the revision
	// and the timeline name as its activator.
	RequestedBy, RequestedLabel string
	// ApprovedLabel is how people know the approver (the actor).
	ApprovedLabel string
	// Rollback marks a rollback request.
	Rollback bool
	// InTx runs in the activation's transaction before the revision
	// becomes active (the request's own change and record); its error
	// aborts everything.
	InTx func(ctx context.Context, tx storage.Store) error
}

// ActivateApproved makes revision id active for an approved four-eyes
// request: validated like Activate, then, in one transaction, ap.InTx, the
// activation and its record. The record's actor is the approver (actor),
// whose action made it happen; the revision and the timeline name the
// requester as activator and actor as approver; reason is the request's.
func (p *Policies) ActivateApproved(ctx context.Context, actor string, id int64, reason string, ap Approved) (storage.PolicyRevision, error) {
	what := "policy.activate"
	if ap.Rollback {
		what = "policy.rollback"
	}
	extra := map[string]any{"approval": ap.RequestID, "requested_by": ap.RequestedBy}
	if err := p.checkActivatable(ctx, actor, id, reason, what, extra); err != nil {
		return storage.PolicyRevision{}, err
	}
	var rev storage.PolicyRevision
	err := p.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		if ap.InTx != nil {
			if err := ap.InTx(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		rev, err = p.activateTx(ctx, tx, actor, id, reason, what, extra, &ap)
		return err
	})
	if err != nil {
		return storage.PolicyRevision{}, err
	}
	p.activated(ctx, rev)
	return rev, nil
}

// ActivateNoted is Activate with detail added to the activation's record:
// how it was authorised when that is not the usual way, such as the
// command line bypassing four-eyes approval.
func (p *Policies) ActivateNoted(ctx context.Context, actor string, id int64, reason string, detail map[string]any) (storage.PolicyRevision, error) {
	return p.activate(ctx, actor, id, reason, "policy.activate", detail)
}
