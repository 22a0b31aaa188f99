package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/storage"
)

// cibaRequestStore is a backchannel.Store on the store: backchannel.Record
// and storage.CIBARequest are the same record in the protocol's and in
// storage's terms.
type cibaRequestStore struct {
	Backend storage.Store
}

var _ backchannel.Store = cibaRequestStore{}

// SaveRequest implements backchannel.Store.
func (s cibaRequestStore) SaveRequest(ctx context.Context, r backchannel.Record) error {
	return cibaErr(s.Backend.SaveCIBARequest(ctx, cibaRecordToStorage(r)))
}

// UpdateRequest implements backchannel.Store.
func (s cibaRequestStore) UpdateRequest(ctx context.Context, r backchannel.Record, owner string) error {
	return cibaErr(s.Backend.UpdateCIBARequest(ctx, cibaRecordToStorage(r), owner))
}

// GetRequest implements backchannel.Store.
func (s cibaRequestStore) GetRequest(ctx context.Context, id string) (backchannel.Record, error) {
	r, err := s.Backend.GetCIBARequest(ctx, id)
	if err != nil {
		return backchannel.Record{}, cibaErr(err)
	}
	return cibaRecordOf(r), nil
}

// PendingRequests implements backchannel.Store.
func (s cibaRequestStore) PendingRequests(ctx context.Context, limit int) ([]backchannel.Record, error) {
	rs, err := s.Backend.PendingCIBARequests(ctx, limit)
	if err != nil {
		return nil, cibaErr(err)
	}
	out := make([]backchannel.Record, len(rs))
	for i, r := range rs {
		out[i] = cibaRecordOf(r)
	}
	return out, nil
}

// TryLease implements backchannel.Store.
func (s cibaRequestStore) TryLease(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	ok, err := s.Backend.TryLeaseCIBARequest(ctx, id, owner, now, until)
	return ok, cibaErr(err)
}

// cibaErr keeps the storage error's text and adds the backchannel sentinel.
func cibaErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: %w", backchannel.ErrNotFound, err)
	case errors.Is(err, storage.ErrAlreadyExists):
		return fmt.Errorf("%w: %w", backchannel.ErrDuplicate, err)
	case errors.Is(err, storage.ErrConflict):
		return fmt.Errorf("%w: %w", backchannel.ErrLeaseLost, err)
	}
	return err
}

func cibaRecordToStorage(r backchannel.Record) storage.CIBARequest {
	return storage.CIBARequest{ID: r.ID, DecisionID: r.DecisionID, Issuer: r.Issuer, AuthReqID: r.AuthReqID,
		Status: string(r.Status), Interval: r.Interval, NextPollAt: r.NextPollAt, ExpiresAt: r.ExpiresAt,
		LeaseOwner: r.LeaseOwner, LeaseUntil: r.LeaseUntil, IDToken: r.IDToken, Claims: r.Claims,
		Error: r.Error, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func cibaRecordOf(r storage.CIBARequest) backchannel.Record {
	return backchannel.Record{ID: r.ID, DecisionID: r.DecisionID, Issuer: r.Issuer, AuthReqID: r.AuthReqID,
		Status: backchannel.Status(r.Status), Interval: r.Interval, NextPollAt: r.NextPollAt, ExpiresAt: r.ExpiresAt,
		LeaseOwner: r.LeaseOwner, LeaseUntil: r.LeaseUntil, IDToken: r.IDToken, Claims: r.Claims,
		Error: r.Error, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
