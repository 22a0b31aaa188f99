package backchannel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Run polls until ctx is cancelled, then returns nil. It resumes every
// pending request in the Store, so a restarted process picks up where it
// left off. Failing passes are logged and retried at the next wake-up.
func (p *Poller) Run(ctx context.Context) error {
	for {
		next, err := p.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			p.cfg.Logger.ErrorContext(ctx, "backchannel poll pass failed", "owner", p.cfg.Owner, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.cfg.After(max(next.Sub(p.cfg.Now()), 0)):
		case <-p.wake:
		}
	}
}

// RunOnce makes one pass: every pending request that is due and not leased
// by another replica is polled once (or expired). It returns when the next
// pass is due: the earliest planned poll of this replica's requests, at the
// latest Rescan from now.
func (p *Poller) RunOnce(ctx context.Context) (time.Time, error) {
	now := p.cfg.Now()
	next := now.Add(p.cfg.Rescan)
	pending, err := p.cfg.Store.PendingRequests(ctx, p.cfg.BatchSize)
	if err != nil {
		return next, fmt.Errorf("list pending backchannel requests: %w", err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, p.cfg.Workers)
	)
	for _, r := range pending {
		if r.LeaseOwner != "" && r.LeaseOwner != p.cfg.Owner && r.LeaseUntil.After(now) {
			continue // another replica's; Rescan notices if it dies
		}
		if r.NextPollAt.After(now) {
			next = earliest(next, r.NextPollAt)
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			planned, err := p.pollDue(ctx, r.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if !planned.IsZero() {
				next = earliest(next, planned)
			}
		})
	}
	wg.Wait()
	return next, errors.Join(errs...)
}

// pollDue leases one request, polls it and stores the result. It returns
// the next planned poll, or zero when the request ended or is not ours.
func (p *Poller) pollDue(ctx context.Context, id string) (time.Time, error) {
	now := p.cfg.Now()
	ok, err := p.cfg.Store.TryLease(ctx, id, p.cfg.Owner, now, now.Add(p.cfg.LeaseDuration))
	if err != nil || !ok {
		return time.Time{}, err
	}
	// Re-read under the lease: the listed copy may predate another
	// replica's last update (even its terminal one).
	r, err := p.cfg.Store.GetRequest(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	if r.Status != StatusPending || r.LeaseOwner != p.cfg.Owner {
		return time.Time{}, nil
	}
	if r.NextPollAt.After(now) { // polled meanwhile by the replica we took over from
		r.LeaseUntil = r.NextPollAt.Add(p.cfg.LeaseDuration)
		return r.NextPollAt, p.save(ctx, r, now)
	}
	if !now.Before(r.ExpiresAt) {
		return time.Time{}, p.finish(ctx, r, StatusExpired, "", "the request expired before the user answered", now)
	}
	ep, creds, err := p.cfg.Resolver.Resolve(ctx, r.Issuer)
	if err != nil {
		return time.Time{}, p.finish(ctx, r, StatusError, "", "resolve issuer: "+err.Error(), now)
	}
	res, err := p.cfg.Client.Poll(ctx, ep, creds, r.AuthReqID)
	now = p.cfg.Now()
	if err != nil {
		// Worth retrying: keep the request and try again after the interval.
		p.cfg.Logger.WarnContext(ctx, "backchannel poll failed, will retry",
			"id", r.ID, "decision_id", r.DecisionID, "issuer", r.Issuer, "err", err)
		p.schedule(&r, now)
		return r.NextPollAt, p.save(ctx, r, now)
	}
	switch res.Outcome {
	case OutcomePending, OutcomeSlowDown:
		if res.Outcome == OutcomeSlowDown {
			r.Interval += SlowDownStep
		}
		p.schedule(&r, now)
		if err := p.save(ctx, r, now); err != nil {
			return time.Time{}, err
		}
		if res.Outcome == OutcomeSlowDown {
			p.notify(ctx, r)
		}
		return r.NextPollAt, nil
	case OutcomeApproved:
		r.IDToken = res.Tokens.IDToken // access/refresh tokens are dropped: stepgate never stores them
		return time.Time{}, p.finish(ctx, r, StatusApproved, "", "", now)
	case OutcomeDenied:
		return time.Time{}, p.finish(ctx, r, StatusDenied, res.Err.Code, res.Err.Error(), now)
	case OutcomeExpired:
		return time.Time{}, p.finish(ctx, r, StatusExpired, res.Err.Code, res.Err.Error(), now)
	default:
		return time.Time{}, p.finish(ctx, r, StatusError, res.Err.Code, res.Err.Error(), now)
	}
}

// finish stores a terminal state, releases the lease and reports it with
// the IdP's error code (empty when stepgate ended the request itself).
func (p *Poller) finish(ctx context.Context, r Record, st Status, code, reason string, now time.Time) error {
	r.Status, r.Error = st, reason
	r.NextPollAt, r.LeaseOwner, r.LeaseUntil = time.Time{}, "", time.Time{}
	if err := p.save(ctx, r, now); err != nil {
		return err
	}
	p.cfg.Logger.InfoContext(ctx, "backchannel request ended",
		"id", r.ID, "decision_id", r.DecisionID, "issuer", r.Issuer, "status", st, "reason", reason)
	state := r.state()
	state.Code = code
	p.notifyState(ctx, r.ID, state)
	return nil
}

func (p *Poller) save(ctx context.Context, r Record, now time.Time) error {
	r.UpdatedAt = now
	if err := p.cfg.Store.UpdateRequest(ctx, r, p.cfg.Owner); err != nil {
		return fmt.Errorf("store backchannel request %s: %w", r.ID, err)
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
