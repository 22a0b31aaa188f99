package pdptest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stepgate/stepgate/pdp"
)

// CIBAOffers is an in-memory pdp.CIBAOffers for tests.
type CIBAOffers struct {
	mu sync.Mutex
	m  map[string]pdp.CIBAOffer
}

// NewCIBAOffers returns an empty store.
func NewCIBAOffers() *CIBAOffers { return &CIBAOffers{m: map[string]pdp.CIBAOffer{}} }

// SaveCIBAOffer inserts o.
func (s *CIBAOffers) SaveCIBAOffer(_ context.Context, o pdp.CIBAOffer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[o.ID]; ok {
		return fmt.Errorf("save ciba offer %s: duplicate id", o.ID)
	}
	s.m[o.ID] = o
	return nil
}

// GetCIBAOffer returns an offer by id.
func (s *CIBAOffers) GetCIBAOffer(_ context.Context, id string) (pdp.CIBAOffer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.m[id]
	if !ok {
		return pdp.CIBAOffer{}, pdp.ErrCIBAOfferNotFound
	}
	return o, nil
}

// CIBAOfferByDecision returns the offer a decision left.
func (s *CIBAOffers) CIBAOfferByDecision(_ context.Context, decisionID string) (pdp.CIBAOffer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.m {
		if o.DecisionID != "" && o.DecisionID == decisionID {
			return o, nil
		}
	}
	return pdp.CIBAOffer{}, pdp.ErrCIBAOfferNotFound
}

// StartCIBAOffer marks an offer started, once.
func (s *CIBAOffers) StartCIBAOffer(_ context.Context, id string, now time.Time) (pdp.CIBAOffer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.m[id]
	switch {
	case !ok:
		return pdp.CIBAOffer{}, pdp.ErrCIBAOfferNotFound
	case o.StartedAt != nil:
		return pdp.CIBAOffer{}, pdp.ErrCIBAOfferUsed
	case now.After(o.ExpiresAt):
		return pdp.CIBAOffer{}, pdp.ErrCIBAOfferExpired
	}
	o.StartedAt = &now
	s.m[id] = o
	return o, nil
}
