package storage

import (
	"context"
	"time"
)

// CIBARequest is one backchannel authentication request stepgate polls
// (the persistent form of pdp/ciba/backchannel.Record). Status is pending,
// approved, denied, expired or error; zero times mean "not set". IDToken
// holds a raw ID token only between an approval and its verification.
type CIBARequest struct {
	ID         string
	DecisionID string
	Issuer     string
	AuthReqID  string
	Status     string
	Interval   time.Duration
	NextPollAt time.Time
	ExpiresAt  time.Time
	LeaseOwner string
	LeaseUntil time.Time
	IDToken    string
	// Claims is JSON, opaque to storage.
	Claims    []byte
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CIBAOffer is what a `ciba` decision (or an explicit start) leaves for
// starting the request later; single use (StartedAt).
type CIBAOffer struct {
	ID         string
	DecisionID string
	ClientID   string
	Issuer     string
	Subject    string
	Action     string
	// Request and Requirements are JSON, opaque to storage.
	Request      []byte
	Requirements []byte
	CreatedAt    time.Time
	ExpiresAt    time.Time
	StartedAt    *time.Time
}

// CIBAOffers keeps CIBA offers, each started at most once.
type CIBAOffers interface {
	// SaveCIBAOffer stores a new offer; ErrAlreadyExists on a duplicate id,
	// ErrInvalid without an id or an expiry.
	SaveCIBAOffer(ctx context.Context, o CIBAOffer) error
	// GetCIBAOffer returns an offer by id, started or not, or ErrNotFound.
	GetCIBAOffer(ctx context.Context, id string) (CIBAOffer, error)
	// CIBAOfferByDecision returns the offer the decision decisionID left, or
	// ErrNotFound; an empty decisionID (an explicit start) never matches.
	CIBAOfferByDecision(ctx context.Context, decisionID string) (CIBAOffer, error)
	// StartCIBAOffer marks the offer started at now and returns it. Exactly
	// one of any number of concurrent callers (goroutines or processes)
	// succeeds; the others get ErrUsed. An offer whose ExpiresAt is before
	// now is refused with ErrExpired and stays unstarted; ErrNotFound for an
	// unknown id.
	StartCIBAOffer(ctx context.Context, id string, now time.Time) (CIBAOffer, error)
}

// CIBARequests keeps the CIBA requests stepgate polls. Replicas share the
// polling through leases: a replica works on a request only while it holds
// the request's lease, so that each IdP answer is settled exactly once.
type CIBARequests interface {
	// SaveCIBARequest stores a new request; ErrAlreadyExists on a duplicate
	// id, ErrInvalid without an id or status.
	SaveCIBARequest(ctx context.Context, r CIBARequest) error
	// UpdateCIBARequest replaces every field of request r.ID (its lease
	// included, so an update can release or hand on the lease) but only
	// while the stored LeaseOwner is owner: ErrConflict when another replica
	// holds it or nobody does, ErrNotFound when there is no such request.
	UpdateCIBARequest(ctx context.Context, r CIBARequest, owner string) error
	// GetCIBARequest returns one request, or ErrNotFound.
	GetCIBARequest(ctx context.Context, id string) (CIBARequest, error)
	// PendingCIBARequests returns up to limit requests in status pending,
	// earliest NextPollAt first (all of them when limit is not positive).
	PendingCIBARequests(ctx context.Context, limit int) ([]CIBARequest, error)
	// TryLeaseCIBARequest gives owner the lease until `until` and reports
	// true when nobody else holds it at now (no owner, owner itself, or a
	// lease ending at or before now); otherwise it changes nothing and
	// reports false. Exactly one of any number of concurrent callers wins a
	// free lease. ErrNotFound for an unknown id.
	TryLeaseCIBARequest(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
}
