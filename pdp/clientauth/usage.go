package clientauth

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Use is the latest use of one client key that FlushUse hands over.
type Use struct {
	ClientID string
	// Previous is true for the key a rotation replaced.
	Previous bool
	At       time.Time
}

// UseRecorder stores key uses, e.g. as a client's last-used time.
type UseRecorder interface {
	RecordUse(ctx context.Context, uses []Use) error
}

// usage remembers the latest use of every key in memory, so noting a use
// on the hot path is one atomic store, and the store sees a batch per
// flush instead of a write per call.
type usage struct {
	keys sync.Map // useKey → *useTimes
}

type useKey struct {
	id       string
	previous bool
}

type useTimes struct {
	last    atomic.Int64 // Unix microseconds of the latest use
	flushed atomic.Int64 // the value last handed to a UseRecorder
}

func (u *usage) note(id string, previous bool, now time.Time) {
	k := useKey{id, previous}
	v, ok := u.keys.Load(k)
	if !ok {
		v, _ = u.keys.LoadOrStore(k, &useTimes{})
	}
	t, us := v.(*useTimes), now.UnixMicro()
	// Concurrent callers may store slightly out of order; a use a few
	// microseconds early does not matter for a minute-grained time.
	if t.last.Load() < us {
		t.last.Store(us)
	}
}

// FlushUse hands the uses noted since the last successful flush to rec in
// one call; nothing when there are none. After a failure the same uses
// (or later ones) are handed over next time.
func (a *Authenticator) FlushUse(ctx context.Context, rec UseRecorder) error {
	var batch []Use
	var marks []func()
	a.uses.keys.Range(func(k, v any) bool {
		key, t := k.(useKey), v.(*useTimes)
		last := t.last.Load()
		if last > t.flushed.Load() {
			batch = append(batch, Use{ClientID: key.id, Previous: key.previous, At: time.UnixMicro(last).UTC()})
			marks = append(marks, func() { t.flushed.Store(last) })
		}
		return true
	})
	if len(batch) == 0 {
		return nil
	}
	if err := rec.RecordUse(ctx, batch); err != nil {
		return fmt.Errorf("record client key use: %w", err)
	}
	for _, m := range marks {
		m()
	}
	return nil
}

// RunUseFlush calls FlushUse every interval (default one minute) until ctx
// ends, then once more so a clean shutdown loses no use. Failures go to
// logf and are retried at the next tick.
func (a *Authenticator) RunUseFlush(ctx context.Context, rec UseRecorder, interval time.Duration, logf func(err error)) {
	if interval <= 0 {
		interval = time.Minute
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := a.FlushUse(fctx, rec); err != nil {
				logf(err)
			}
			return
		case <-tick.C:
			if err := a.FlushUse(ctx, rec); err != nil {
				logf(err)
			}
		}
	}
}
