package pdptest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba"
)

// CIBAOffers is an in-memory pdp.CIBAOffers for tests.
type CIBAOffers struct {
	mu sync.Mutex
	m  map[string]ciba.Offer
}

// NewCIBAOffers returns an empty store.
func NewCIBAOffers() *CIBAOffers { return &CIBAOffers{m: map[string]ciba.Offer{}} }

// SaveCIBAOffer inserts o.
func (s *CIBAOffers) SaveCIBAOffer(_ context.Context, o ciba.Offer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[o.ID]; ok {
		return fmt.Errorf("save ciba offer %s: duplicate id", o.ID)
	}
	s.m[o.ID] = o
	return nil
}

// GetCIBAOffer returns an offer by id.
func (s *CIBAOffers) GetCIBAOffer(_ context.Context, id string) (ciba.Offer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.m[id]
	if !ok {
		return ciba.Offer{}, ciba.ErrOfferNotFound
	}
	return o, nil
}

// CIBAOfferByDecision returns the offer a decision left.
func (s *CIBAOffers) CIBAOfferByDecision(_ context.Context, decisionID string) (ciba.Offer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.m {
		if o.DecisionID != "" && o.DecisionID == decisionID {
			return o, nil
		}
	}
	return ciba.Offer{}, ciba.ErrOfferNotFound
}

// StartCIBAOffer marks an offer started, once.
func (s *CIBAOffers) StartCIBAOffer(_ context.Context, id string, now time.Time) (ciba.Offer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.m[id]
	switch {
	case !ok:
		return ciba.Offer{}, ciba.ErrOfferNotFound
	case o.StartedAt != nil:
		return ciba.Offer{}, ciba.ErrOfferUsed
	case now.After(o.ExpiresAt):
		return ciba.Offer{}, ciba.ErrOfferExpired
	}
	o.StartedAt = &now
	s.m[id] = o
	return o, nil
}
