package ciba

import (
	"context"
	"errors"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
)

// Errors a OfferStore returns.
var (
	ErrOfferNotFound = errors.New("ciba offer not found")
	ErrOfferUsed     = errors.New("ciba offer already started")
	ErrOfferExpired  = errors.New("ciba offer expired")
)

// Offer is what a `ciba` decision leaves behind for POST /v1/ciba: the
// backchannel request already in the issuer's dialect and the requirements
// the returned ID token must meet. It is stored only for issuers stepgate
// runs CIBA for (IssuerConfig.CIBA set) and started at most once.
type Offer struct {
	// ID is the id the CIBA request gets when started (ciba.id of the
	// decision, the {id} of GET /v1/ciba/{id}).
	ID         string
	DecisionID string
	// ClientID is the decision API client that may start and read it.
	ClientID     string
	Issuer       string
	Subject      string
	Action       string
	Request      Request
	Requirements policy.Requirements
	CreatedAt    time.Time
	// ExpiresAt bounds when the offer may be started, not the CIBA request.
	ExpiresAt time.Time
	// StartedAt is set once POST /v1/ciba started it.
	StartedAt *time.Time
}

// OfferStore keeps offers. The Service only saves them; Runner
// reads and starts them.
type OfferStore interface {
	// SaveCIBAOffer inserts a new offer.
	SaveCIBAOffer(ctx context.Context, o Offer) error
}

// Offers is the full offer store Runner uses.
type Offers interface {
	OfferStore
	// GetCIBAOffer returns the offer with id, ErrOfferNotFound if none.
	GetCIBAOffer(ctx context.Context, id string) (Offer, error)
	// CIBAOfferByDecision returns the offer a decision left, or
	// ErrOfferNotFound.
	CIBAOfferByDecision(ctx context.Context, decisionID string) (Offer, error)
	// StartCIBAOffer marks the offer started at now and returns it. It is
	// atomic: of concurrent callers exactly one succeeds, the others get
	// ErrOfferUsed; an offer past ExpiresAt gives ErrOfferExpired.
	StartCIBAOffer(ctx context.Context, id string, now time.Time) (Offer, error)
}

// StatusPath is the status_url of a CIBA request stepgate runs.
func StatusPath(id string) string { return "/v1/ciba/" + id }
