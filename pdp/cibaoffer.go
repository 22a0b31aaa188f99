package pdp

import (
	"context"
	"errors"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Errors a CIBAOfferStore returns.
var (
	ErrCIBAOfferNotFound = errors.New("ciba offer not found")
	ErrCIBAOfferUsed     = errors.New("ciba offer already started")
	ErrCIBAOfferExpired  = errors.New("ciba offer expired")
)

// CIBAOffer is what a `ciba` decision leaves behind for POST /v1/ciba: the
// backchannel request already in the issuer's dialect and the requirements
// the returned ID token must meet. It is stored only for issuers stepgate
// runs CIBA for (IssuerConfig.CIBA set) and started at most once.
type CIBAOffer struct {
	// ID is the id the CIBA request gets when started (ciba.id of the
	// decision, the {id} of GET /v1/ciba/{id}).
	ID         string
	DecisionID string
	// ClientID is the decision API client that may start and read it.
	ClientID     string
	Issuer       string
	Subject      string
	Action       string
	Request      CIBARequest
	Requirements policy.Requirements
	CreatedAt    time.Time
	// ExpiresAt bounds when the offer may be started, not the CIBA request.
	ExpiresAt time.Time
	// StartedAt is set once POST /v1/ciba started it.
	StartedAt *time.Time
}

// CIBAOfferStore keeps offers. The Service only saves them; CIBARunner
// reads and starts them.
type CIBAOfferStore interface {
	// SaveCIBAOffer inserts a new offer.
	SaveCIBAOffer(ctx context.Context, o CIBAOffer) error
}

// CIBAOffers is the full offer store CIBARunner uses.
type CIBAOffers interface {
	CIBAOfferStore
	// GetCIBAOffer returns the offer with id, ErrCIBAOfferNotFound if none.
	GetCIBAOffer(ctx context.Context, id string) (CIBAOffer, error)
	// CIBAOfferByDecision returns the offer a decision left, or
	// ErrCIBAOfferNotFound.
	CIBAOfferByDecision(ctx context.Context, decisionID string) (CIBAOffer, error)
	// StartCIBAOffer marks the offer started at now and returns it. It is
	// atomic: of concurrent callers exactly one succeeds, the others get
	// ErrCIBAOfferUsed; an offer past ExpiresAt gives ErrCIBAOfferExpired.
	StartCIBAOffer(ctx context.Context, id string, now time.Time) (CIBAOffer, error)
}

// CIBAStatusPath is the status_url of a CIBA request stepgate runs.
func CIBAStatusPath(id string) string { return "/v1/ciba/" + id }

// offerCIBA stores the decision's backchannel request as an offer when
// stepgate runs CIBA for the issuer and announces it in the answer (ciba.id,
// ciba.status_url). Without an offer store, or for an issuer stepgate does
// not run CIBA for, the answer carries the request parameters only. A store
// failure leaves the answer without an id: the app can still run CIBA
// itself with the parameters, and the decision itself is unaffected.
func (s *Service) offerCIBA(ctx context.Context, c *call, d *Decision, issuer *trust.IssuerConfig) {
	if s.cfg.CIBAOffers == nil || d.CIBA == nil || issuer == nil || issuer.CIBA == nil {
		return
	}
	id, err := randomToken(16)
	if err != nil {
		s.log.ErrorContext(ctx, "ciba offer id", "decision_id", d.ID, "err", err)
		return
	}
	now := s.now()
	o := CIBAOffer{ID: id, DecisionID: d.ID, ClientID: c.client.ID, Issuer: issuer.Issuer,
		Subject: c.input.Subject.ID, Action: c.input.Action.Name, Request: d.CIBA.Request,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.StepUpTTL)}
	if d.Requirements != nil {
		o.Requirements = *d.Requirements
	}
	if err := s.cfg.CIBAOffers.SaveCIBAOffer(ctx, o); err != nil {
		s.log.ErrorContext(ctx, "ciba offer could not be stored; answering with the request parameters only", "decision_id", d.ID, "err", err)
		return
	}
	d.CIBA.ID, d.CIBA.StatusURL = id, CIBAStatusPath(id)
}
