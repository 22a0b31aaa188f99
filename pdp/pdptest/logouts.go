package pdptest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/stepgate/stepgate/pdp/session"
)

// Logouts is an in-memory pdp.LogoutStore. Fail, when set, is returned by
// every call, to test what a replica does when the database is down.
type Logouts struct {
	mu    sync.Mutex
	marks []session.Logout
	Fail  error
}

var _ session.LogoutStore = (*Logouts)(nil)

// NewLogouts returns an empty store.
func NewLogouts() *Logouts { return &Logouts{} }

// SaveLogout appends m with the next ID.
func (s *Logouts) SaveLogout(_ context.Context, m session.Logout) (session.Logout, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return session.Logout{}, s.Fail
	}
	if m.At.IsZero() || m.ExpiresAt.IsZero() {
		return session.Logout{}, errors.New("pdptest: a logout needs At and ExpiresAt")
	}
	m.ID = s.maxID() + 1
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	s.marks = append(s.marks, m)
	return m, nil
}

// Insert stores m with exactly the ID it has, as a transaction of another
// replica that took its ID earlier and commits only now would.
func (s *Logouts) Insert(m session.Logout) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marks = append(s.marks, m)
}

// LogoutsAfter returns up to limit unexpired marks after afterID by ID.
func (s *Logouts) LogoutsAfter(_ context.Context, afterID int64, now time.Time, limit int) ([]session.Logout, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return nil, s.Fail
	}
	var out []session.Logout
	for id := afterID + 1; len(out) < limit; id++ {
		found := false
		for _, m := range s.marks {
			if m.ID == id {
				found = true
				if m.ExpiresAt.After(now) {
					out = append(out, m)
				}
			}
		}
		if !found && id > s.maxID() {
			break
		}
	}
	return out, nil
}

func (s *Logouts) maxID() int64 {
	var top int64
	for _, m := range s.marks {
		top = max(top, m.ID)
	}
	return top
}
