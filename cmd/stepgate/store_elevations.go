package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/storage"
)

// elevationStore is a session.ElevationStore and session.ElevationRevoker
// on the store.
type elevationStore struct {
	Backend storage.Store
}

var (
	_ session.ElevationStore   = elevationStore{}
	_ session.ElevationRevoker = elevationStore{}
)

// SaveElevation implements session.ElevationStore.
func (s elevationStore) SaveElevation(ctx context.Context, e session.Elevation) error {
	return s.Backend.SaveElevation(ctx, storage.SessionElevation{ClientID: e.ClientID, SessionID: e.SessionID,
		Issuer: e.Issuer, Subject: e.Subject, SID: e.SID, Methods: e.Methods, ACR: e.ACR, AuthTime: e.AuthTime,
		DecisionID: e.DecisionID, StepUpID: e.StepUpID, CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt})
}

// FindElevation implements session.ElevationStore.
func (s elevationStore) FindElevation(ctx context.Context, clientID, sessionID string, now time.Time) (session.Elevation, error) {
	e, err := s.Backend.FindElevation(ctx, clientID, sessionID, now)
	if errors.Is(err, storage.ErrNotFound) {
		return session.Elevation{}, fmt.Errorf("%w: %w", session.ErrNoElevation, err)
	}
	if err != nil {
		return session.Elevation{}, err
	}
	return elevationOf(e), nil
}

// RevokeElevations implements session.ElevationRevoker.
func (s elevationStore) RevokeElevations(ctx context.Context, f session.ElevationFilter) ([]session.Elevation, error) {
	gone, err := s.Backend.RevokeElevations(ctx, storage.ElevationFilter{ClientID: f.ClientID, SessionID: f.SessionID,
		Issuer: f.Issuer, SID: f.SID, Subject: f.Subject, CreatedBefore: f.CreatedBefore})
	if err != nil {
		return nil, err
	}
	out := make([]session.Elevation, len(gone))
	for i, e := range gone {
		out[i] = elevationOf(e)
	}
	return out, nil
}

func elevationOf(e storage.SessionElevation) session.Elevation {
	return session.Elevation{ClientID: e.ClientID, SessionID: e.SessionID, Issuer: e.Issuer, Subject: e.Subject,
		SID: e.SID, Methods: e.Methods, ACR: e.ACR, AuthTime: e.AuthTime, DecisionID: e.DecisionID,
		StepUpID: e.StepUpID, CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt}
}
