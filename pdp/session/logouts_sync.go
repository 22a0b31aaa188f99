package session

import (
	"context"
	"fmt"
	"time"
)

const (
	// logoutPage is how many marks one store read returns.
	logoutPage = 1000
	// logoutGapWait is how long an ID missing between two read marks is
	// looked for again: a transaction that took it may commit after a
	// later one (PostgreSQL hands out IDs before commit), or may have
	// rolled back and left a hole for good.
	logoutGapWait = time.Minute
	// maxLogoutGaps bounds the IDs remembered as missing; a sequence that
	// jumps (PostgreSQL after a crash) must not fill memory.
	maxLogoutGaps = 1000
	// logoutPruneEvery is how often Sync forgets expired marks.
	logoutPruneEvery = time.Minute
)

// syncState is where Sync continues from; guarded by its own mutex so that
// a slow store read never blocks decisions.
type syncState struct {
	cursor    int64               // highest ID read
	gaps      map[int64]time.Time // IDs below cursor not read yet, since when
	lastPrune time.Time
}

// Load reads every unexpired mark from the store. serve calls it before
// answering decisions and fails when it fails: an index missing marks
// would let ended sessions back in.
func (l *Logouts) Load(ctx context.Context) error {
	if err := l.Sync(ctx); err != nil {
		return fmt.Errorf("load logout marks: %w", err)
	}
	return nil
}

// Record stores a mark (ExpiresAt defaults to At + Retention), then adds
// it to this replica's index at once; other replicas pick it up with
// Sync. Only a stored mark is applied: a logout that is not in the store
// must be retried by its sender, not half done.
func (l *Logouts) Record(ctx context.Context, m Logout) (Logout, error) {
	if m.ExpiresAt.IsZero() {
		m.ExpiresAt = m.At.Add(l.cfg.Retention)
	}
	saved, err := l.cfg.Store.SaveLogout(ctx, m)
	if err != nil {
		return Logout{}, fmt.Errorf("store logout mark: %w", err)
	}
	l.apply(saved, l.cfg.Now())
	return saved, nil
}

// Sync reads the marks stored since the last Sync (by this or another
// replica) into the index, and forgets expired ones once a minute.
// Callers run it on a short period; concurrent calls are serialised.
func (l *Logouts) Sync(ctx context.Context) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	st := &l.sync
	now := l.cfg.Now()
	for id, since := range st.gaps {
		if now.Sub(since) > logoutGapWait {
			delete(st.gaps, id)
		}
	}
	from := st.cursor
	for id := range st.gaps {
		from = min(from, id-1)
	}
	for {
		page, err := l.cfg.Store.LogoutsAfter(ctx, from, now, logoutPage)
		if err != nil {
			return fmt.Errorf("read logout marks after %d: %w", from, err)
		}
		for _, m := range page {
			l.apply(m, now)
			l.advance(m, now)
			from = m.ID
		}
		if len(page) < logoutPage {
			break
		}
	}
	if now.Sub(st.lastPrune) >= logoutPruneEvery {
		st.lastPrune = now
		l.prune(now)
	}
	return nil
}

// advance moves the cursor past m, remembering the IDs it skipped when m
// is recent: an older hole cannot be a transaction still in flight (it
// took its ID before m did), only a deleted or rolled-back mark.
func (l *Logouts) advance(m Logout, now time.Time) {
	st := &l.sync
	delete(st.gaps, m.ID)
	if m.ID <= st.cursor {
		return
	}
	if now.Sub(m.CreatedAt) < logoutGapWait {
		if st.gaps == nil {
			st.gaps = map[int64]time.Time{}
		}
		for missing := max(st.cursor+1, m.ID-maxLogoutGaps); missing < m.ID && len(st.gaps) < maxLogoutGaps; missing++ {
			st.gaps[missing] = now
		}
	}
	st.cursor = m.ID
}
