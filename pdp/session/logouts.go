package session

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Logout is a logout mark: a session that ended, so that a token of it no
// longer counts as a login. It names an IdP session (Issuer and SID, from
// a back-channel logout), every session of a user at an IdP (Issuer and
// Subject without SID), or one session of a decision API client
// (ClientID and SessionID, from POST /v1/sessions/{sid}/revoke). At is
// when it ended: the logout token's iat, or the time of the revocation.
type Logout struct {
	// ID is the store's; marks are followed across replicas by it.
	ID        int64
	Issuer    string
	SID       string
	Subject   string
	ClientID  string
	SessionID string
	JTI       string
	At        time.Time
	// CreatedAt is when the mark was stored; ExpiresAt when it may go.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LogoutStore keeps logout marks where every replica reads them;
// cmd/stepgate adapts the storage.Store to it.
type LogoutStore interface {
	// SaveLogout stores a mark and returns it with its ID.
	SaveLogout(ctx context.Context, l Logout) (Logout, error)
	// LogoutsAfter returns up to limit unexpired marks with an ID above
	// afterID, in ID order.
	LogoutsAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]Logout, error)
}

// LogoutsConfig configures Logouts. Store is required.
type LogoutsConfig struct {
	Store LogoutStore
	// Retention is how long a mark is kept, in memory and in the store;
	// default 30 days. It must outlive every token of an ended session
	// that could still be presented (with an elevation or asserted).
	Retention time.Duration
	// Skew extends a client's revocation, stamped with stepgate's clock,
	// over logins the IdP stamped up to this much later (clock
	// differences); default 5s. A back-channel logout needs none: the IdP
	// stamps both its iat and the logins.
	Skew   time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Logouts is the in-memory index of logout marks that every decision
// consults without a database round trip. It is loaded fully at start
// (Load), written through on a logout this replica receives (Record), and
// follows the marks other replicas store (Sync). Per key only the latest
// logout time is kept: a later logout ends every login an earlier one did.
// Safe for concurrent use.
type Logouts struct {
	cfg LogoutsConfig
	log *slog.Logger

	mu sync.RWMutex
	// Unix seconds of the latest logout, by issuer then sid, by issuer
	// then subject, and by client then session id: nesting keeps one copy
	// of each issuer and client name however many marks there are.
	sids, subs, sessions map[string]map[string]int64
	// size is the number of entries; zero lets decisions skip the lock.
	size atomic.Int64

	syncMu sync.Mutex
	sync   syncState
}

// NewLogouts validates cfg and returns an empty index; call Load before
// serving decisions.
func NewLogouts(cfg LogoutsConfig) (*Logouts, error) {
	if cfg.Store == nil {
		return nil, errors.New("pdp: logouts config: Store is required")
	}
	if cfg.Retention < 0 || cfg.Skew < 0 {
		return nil, errors.New("pdp: logouts config: durations must not be negative")
	}
	cfg.Retention = cmp.Or(cfg.Retention, 30*24*time.Hour)
	cfg.Skew = cmp.Or(cfg.Skew, 5*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Logouts{cfg: cfg, log: cfg.Logger, sids: map[string]map[string]int64{},
		subs: map[string]map[string]int64{}, sessions: map[string]map[string]int64{}}, nil
}

// Len returns how many sessions and users the index holds as ended.
func (l *Logouts) Len() int { return int(l.size.Load()) }

// apply adds m to the index unless it is already expired at now.
func (l *Logouts) apply(m Logout, now time.Time) {
	at := m.At.Unix()
	if at+int64(l.cfg.Retention/time.Second) < now.Unix() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if m.ClientID != "" && m.SessionID != "" {
		l.put(l.sessions, m.ClientID, m.SessionID, at)
	}
	switch {
	case m.Issuer == "":
	case m.SID != "":
		l.put(l.sids, m.Issuer, m.SID, at)
	case m.Subject != "":
		l.put(l.subs, m.Issuer, m.Subject, at)
	}
}

func (l *Logouts) put(idx map[string]map[string]int64, outer, inner string, at int64) {
	m := idx[outer]
	if m == nil {
		m = map[string]int64{}
		idx[outer] = m
	}
	if old, ok := m[inner]; !ok {
		l.size.Add(1)
	} else if old >= at {
		return
	}
	m[inner] = at
}

// prune forgets the marks that expired by now.
func (l *Logouts) prune(now time.Time) {
	cut := now.Unix() - int64(l.cfg.Retention/time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, idx := range []map[string]map[string]int64{l.sids, l.subs, l.sessions} {
		for outer, m := range idx {
			for inner, at := range m {
				if at < cut {
					delete(m, inner)
					l.size.Add(-1)
				}
			}
			if len(m) == 0 {
				delete(idx, outer)
			}
		}
	}
}
