package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/storage"
)

// cibaOfferStore is a ciba.Offers on the store: it turns offers into
// storage.CIBAOffer records (request and requirements as JSON) and storage
// sentinels into ciba's.
type cibaOfferStore struct {
	Backend storage.Store
}

var _ ciba.Offers = cibaOfferStore{}

// SaveCIBAOffer implements ciba.Offers.
func (s cibaOfferStore) SaveCIBAOffer(ctx context.Context, o ciba.Offer) error {
	req, err := json.Marshal(o.Request)
	if err != nil {
		return fmt.Errorf("encode ciba request of offer %s: %w", o.ID, err)
	}
	reqs, err := json.Marshal(o.Requirements)
	if err != nil {
		return fmt.Errorf("encode requirements of offer %s: %w", o.ID, err)
	}
	return s.Backend.SaveCIBAOffer(ctx, storage.CIBAOffer{ID: o.ID, DecisionID: o.DecisionID, ClientID: o.ClientID,
		Issuer: o.Issuer, Subject: o.Subject, Action: o.Action, Request: req, Requirements: reqs,
		CreatedAt: o.CreatedAt, ExpiresAt: o.ExpiresAt, StartedAt: o.StartedAt})
}

// GetCIBAOffer implements ciba.Offers.
func (s cibaOfferStore) GetCIBAOffer(ctx context.Context, id string) (ciba.Offer, error) {
	o, err := s.Backend.GetCIBAOffer(ctx, id)
	return offerOf(o, err)
}

// CIBAOfferByDecision implements ciba.Offers.
func (s cibaOfferStore) CIBAOfferByDecision(ctx context.Context, decisionID string) (ciba.Offer, error) {
	o, err := s.Backend.CIBAOfferByDecision(ctx, decisionID)
	return offerOf(o, err)
}

// StartCIBAOffer implements ciba.Offers.
func (s cibaOfferStore) StartCIBAOffer(ctx context.Context, id string, now time.Time) (ciba.Offer, error) {
	o, err := s.Backend.StartCIBAOffer(ctx, id, now)
	return offerOf(o, err)
}

func offerOf(o storage.CIBAOffer, err error) (ciba.Offer, error) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return ciba.Offer{}, fmt.Errorf("%w: %w", ciba.ErrOfferNotFound, err)
	case errors.Is(err, storage.ErrUsed):
		return ciba.Offer{}, fmt.Errorf("%w: %w", ciba.ErrOfferUsed, err)
	case errors.Is(err, storage.ErrExpired):
		return ciba.Offer{}, fmt.Errorf("%w: %w", ciba.ErrOfferExpired, err)
	case err != nil:
		return ciba.Offer{}, err
	}
	out := ciba.Offer{ID: o.ID, DecisionID: o.DecisionID, ClientID: o.ClientID, Issuer: o.Issuer,
		Subject: o.Subject, Action: o.Action, CreatedAt: o.CreatedAt, ExpiresAt: o.ExpiresAt, StartedAt: o.StartedAt}
	if err := json.Unmarshal(o.Request, &out.Request); err != nil {
		return ciba.Offer{}, fmt.Errorf("decode ciba request of offer %s: %w", o.ID, err)
	}
	if err := json.Unmarshal(o.Requirements, &out.Requirements); err != nil {
		return ciba.Offer{}, fmt.Errorf("decode requirements of offer %s: %w", o.ID, err)
	}
	return out, nil
}
