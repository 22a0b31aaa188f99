package storage

import (
	"context"
	"time"
)

// Kinds of activation in the timeline.
const (
	ActivationActivate = "activate"
	ActivationRollback = "rollback"
	// ActivationEarlier is an activation made before the timeline was
	// kept: known from the revision's last activation, without a reason.
	ActivationEarlier = "earlier"
)

// RevisionActivation is one period during which a revision was active.
type RevisionActivation struct {
	// ID is assigned by the store.
	ID         int64
	RevisionID int64
	// Kind is an Activation kind.
	Kind string
	// ActivatedAt, ActivatedBy (actor), ActivatedLabel and Reason say when
	// the period began, by whose action and why.
	ActivatedAt    time.Time
	ActivatedBy    string
	ActivatedLabel string
	Reason         string
	// ApprovalID, ApprovedBy and ApprovedLabel name the approval request
	// and the second admin, for a four-eyes activation.
	ApprovalID    int64
	ApprovedBy    string
	ApprovedLabel string
	// EndedAt is when the next activation ended the period; nil while the
	// revision is active.
	EndedAt *time.Time
}

// RevisionActivations keeps the activation timeline (RevisionActivation).
type RevisionActivations interface {
	// AppendActivation ends the open period (if any) at a.ActivatedAt and
	// opens a's, returning it with its id. Call it in the transaction that
	// activates the revision.
	AppendActivation(ctx context.Context, a RevisionActivation) (RevisionActivation, error)
	// ListActivations returns periods newest first: of revisionID only when
	// it is positive, else of every revision.
	ListActivations(ctx context.Context, revisionID int64) ([]RevisionActivation, error)
}
