package pdptest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/stepgate/stepgate/pdp/session"
)

// Elevations is an in-memory pdp.ElevationStore and pdp.ElevationRevoker
// for tests.
type Elevations struct {
	mu sync.Mutex
	m  map[[2]string]session.Elevation
}

// NewElevations returns an empty store.
func NewElevations() *Elevations { return &Elevations{m: map[[2]string]session.Elevation{}} }

// SaveElevation creates or replaces the elevation of (ClientID, SessionID).
func (s *Elevations) SaveElevation(_ context.Context, e session.Elevation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Methods = slices.Clone(e.Methods)
	s.m[[2]string{e.ClientID, e.SessionID}] = e
	return nil
}

// FindElevation returns the unexpired elevation of a session.
func (s *Elevations) FindElevation(_ context.Context, clientID, sessionID string, now time.Time) (session.Elevation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[[2]string{clientID, sessionID}]
	if !ok || !now.Before(e.ExpiresAt) {
		return session.Elevation{}, session.ErrNoElevation
	}
	e.Methods = slices.Clone(e.Methods)
	return e, nil
}

// RevokeElevations deletes and returns the elevations f selects.
func (s *Elevations) RevokeElevations(_ context.Context, f session.ElevationFilter) ([]session.Elevation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []session.Elevation
	for k, e := range s.m {
		if f.Matches(e) {
			out = append(out, e)
			delete(s.m, k)
		}
	}
	return out, nil
}
