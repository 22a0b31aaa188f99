package main

import (
	"context"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/storage"
)

// logoutStore adapts the store to session.LogoutStore: logout marks live in
// the database so that every replica, and every restart, sees them.
type logoutStore struct{ s storage.Store }

var _ session.LogoutStore = logoutStore{}

func (l logoutStore) SaveLogout(ctx context.Context, m session.Logout) (session.Logout, error) {
	saved, err := l.s.SaveLogout(ctx, storage.SessionLogout{ID: m.ID, Issuer: m.Issuer, SID: m.SID, Subject: m.Subject,
		ClientID: m.ClientID, SessionID: m.SessionID, JTI: m.JTI, At: m.At, CreatedAt: m.CreatedAt, ExpiresAt: m.ExpiresAt})
	if err != nil {
		return session.Logout{}, err
	}
	return logoutOf(saved), nil
}

func (l logoutStore) LogoutsAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]session.Logout, error) {
	marks, err := l.s.LogoutsAfter(ctx, afterID, now, limit)
	if err != nil {
		return nil, err
	}
	out := make([]session.Logout, len(marks))
	for i, m := range marks {
		out[i] = logoutOf(m)
	}
	return out, nil
}

func logoutOf(m storage.SessionLogout) session.Logout {
	return session.Logout{ID: m.ID, Issuer: m.Issuer, SID: m.SID, Subject: m.Subject, ClientID: m.ClientID,
		SessionID: m.SessionID, JTI: m.JTI, At: m.At, CreatedAt: m.CreatedAt, ExpiresAt: m.ExpiresAt}
}

// openLogouts builds the logout index and loads every unexpired mark. It
// fails when the marks cannot be read: serving from an empty index would
// let ended sessions back in.
func (a *app) openLogouts(ctx context.Context) (*session.Logouts, error) {
	l, err := session.NewLogouts(session.LogoutsConfig{Store: logoutStore{a.store}, Retention: a.cfg.Decision.LogoutRetention, Logger: a.log})
	if err != nil {
		return nil, err
	}
	if err := l.Load(ctx); err != nil {
		return nil, fmt.Errorf("session logouts: %w", err)
	}
	return l, nil
}

// watchLogouts follows the marks other replicas store, on the revision
// poll's cadence, so that a logout any replica received ends the session
// here within about a second. A failed read keeps what is known and tries
// again on the next tick.
func (a *app) watchLogouts(ctx context.Context, l *session.Logouts) {
	t := time.NewTicker(a.cfg.Decision.RevisionPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := l.Sync(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("logout watch: read new session logouts", "err", err)
		}
	}
}
