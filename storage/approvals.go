package storage

import (
	"context"
	"time"
)

// Kinds of approval request.
const (
	ApprovalActivate = "activate"
	ApprovalRollback = "rollback"
)

// Statuses of an approval request. Only a pending request changes, once.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
	ApprovalExpired  = "expired"
)

// PolicyApproval is a request to activate a revision (or roll back to
// one) that waits for a second admin ("four eyes").
type PolicyApproval struct {
	// ID is assigned by the store.
	ID int64
	// Kind is ApprovalActivate or ApprovalRollback.
	Kind string
	// RevisionID is the revision that would become active.
	RevisionID int64
	// BaseRevisionID is the revision active when the request was made (0
	// for none).
	BaseRevisionID int64
	// Status is one of the Approval statuses.
	Status string
	// RequestedBy is the requester's actor, RequestedLabel how people know
	// them, Reason why they asked.
	RequestedBy, RequestedLabel, Reason string
	RequestedAt, ExpiresAt              time.Time
	// DecidedBy, DecidedLabel, DecisionReason and DecidedAt say who
	// approved or rejected it and why (for an expiry, the sweeping actor).
	DecidedBy, DecidedLabel, DecisionReason string
	DecidedAt                               *time.Time
}

// PolicyApprovals keeps approval requests (PolicyApproval).
type PolicyApprovals interface {
	// CreateApproval stores a new request in status ApprovalPending and
	// returns it with its id.
	CreateApproval(ctx context.Context, a PolicyApproval) (PolicyApproval, error)
	// GetApproval returns a request, or ErrNotFound.
	GetApproval(ctx context.Context, id int64) (PolicyApproval, error)
	// ListApprovals returns requests newest first: only those in status
	// when status is not empty, at most limit (all when limit <= 0).
	ListApprovals(ctx context.Context, status string, limit int) ([]PolicyApproval, error)
	// DecideApproval moves a pending request to a.Status (approved,
	// rejected or expired) with a's Decided* fields and returns it. It
	// returns ErrNotFound for an unknown id and ErrConflict, changing
	// nothing, when the request is no longer pending: of concurrent
	// deciders exactly one succeeds.
	DecideApproval(ctx context.Context, a PolicyApproval) (PolicyApproval, error)
}
