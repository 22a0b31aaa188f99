package readiness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
)

// Check names.
const (
	CheckPolicy      = "policy"
	CheckDatabase    = "database"
	CheckAudit       = "audit"
	CheckEvaluations = "policy_evaluations"
)

// Check states.
const (
	StatusOK      = "ok"
	StatusFailing = "failing"
)

// Pinger is the store as the prober sees it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// AuditHealth reports the audit writer's last commit: nil when it
// succeeded (storage/audit.Writer.Healthy).
type AuditHealth interface {
	Healthy() error
}

// Config wires a Prober. Store and Policy are required.
type Config struct {
	// Store is pinged on every round.
	Store Pinger
	// Audit is the audit writer; nil leaves the audit check out.
	Audit AuditHealth
	// ProveAudit writes one record through the audit writer and returns
	// once it committed; the prober calls it while Audit reports an error
	// and the store answers pings. nil never writes (an async writer
	// retries its queued records by itself and needs no proof).
	ProveAudit func(ctx context.Context, lastErr error) error
	// Policy returns the active revision, ok false when there is none.
	Policy func() (revision int64, hash string, ok bool)
	// Interval is the time between rounds while every check is ok; default
	// 5s. FailingInterval is the time between rounds while one fails;
	// default 1s. Timeout bounds the ping and the proof; default 2s.
	Interval, FailingInterval, Timeout time.Duration
	// PolicyWindow and PolicyMinErrors: policy_evaluations fails when,
	// within PolicyWindow, at least PolicyMinErrors evaluations failed and
	// they were every decision made. Defaults 1m and 20.
	PolicyWindow    time.Duration
	PolicyMinErrors int
	// Now is the clock; default time.Now. Logger gets state changes.
	Now    func() time.Time
	Logger *slog.Logger
}

// Check is the state of one check; Since is when it entered that state,
// as far as this process has seen.
type Check struct {
	Name   string    `json:"name"`
	Status string    `json:"status"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since,omitzero"`
}

// OK reports whether the check passes.
func (c Check) OK() bool { return c.Status == StatusOK }

// Report is every check, in a fixed order.
type Report struct {
	Checks []Check
}

// Ready reports whether every check passes.
func (r Report) Ready() bool {
	for _, c := range r.Checks {
		if !c.OK() {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Prober probes the store (and the audit path) in the background and
// counts policy errors; see the package documentation.
type Prober struct {
	cfg Config

	// decisions and policyErrors are bumped on the decision path.
	decisions, policyErrors atomic.Uint64

	mu     sync.Mutex
	probed bool
	db     state
	audit  state
	evals  evaluations
	ready  bool
}

// state is a check's last outcome and since when it holds.
type state struct {
	err   error
	since time.Time
}

func (s *state) set(err error, now time.Time) (changed bool) {
	changed = (err == nil) != (s.err == nil) || s.since.IsZero()
	if changed {
		s.since = now
	}
	s.err = err
	return changed
}

// New validates cfg and applies its defaults.
func New(cfg Config) (*Prober, error) {
	if cfg.Store == nil || cfg.Policy == nil {
		return nil, errors.New("readiness: Store and Policy are required")
	}
	if cfg.Interval < 0 || cfg.FailingInterval < 0 || cfg.Timeout < 0 || cfg.PolicyWindow < 0 || cfg.PolicyMinErrors < 0 {
		return nil, errors.New("readiness: intervals, timeout, window and minimum errors must not be negative")
	}
	cfg.Interval = cmp.Or(cfg.Interval, 5*time.Second)
	cfg.FailingInterval = cmp.Or(cfg.FailingInterval, time.Second)
	cfg.Timeout = cmp.Or(cfg.Timeout, 2*time.Second)
	cfg.PolicyWindow = cmp.Or(cfg.PolicyWindow, time.Minute)
	cfg.PolicyMinErrors = cmp.Or(cfg.PolicyMinErrors, 20)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Prober{cfg: cfg}, nil
}

// ObserveDecision counts one decision, whatever its outcome. With
// ObservePolicyError and ObserveTokenRejected it makes a Prober a
// pdp.Observer.
func (p *Prober) ObserveDecision(string, policy.Outcome, time.Duration) { p.decisions.Add(1) }

// ObservePolicyError counts one evaluation that failed closed.
func (p *Prober) ObservePolicyError() { p.policyErrors.Add(1) }

// ObservePolicyTimeout does nothing more: the timeout was already counted
// as a policy error.
func (p *Prober) ObservePolicyTimeout() {}

// ObserveTokenRejected does nothing: a bad token says nothing about the
// replica.
func (p *Prober) ObserveTokenRejected(string) {}

// Run probes until ctx ends: a round at once, then one every Interval, or
// every FailingInterval while a check fails.
func (p *Prober) Run(ctx context.Context) {
	for {
		p.Probe(ctx)
		wait := p.cfg.Interval
		if !p.Report().Ready() {
			wait = p.cfg.FailingInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Probe runs one round: ping the store, prove the audit path when the
// writer reports an error and the store answers, and sample the policy
// error counters.
func (p *Prober) Probe(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	dbErr := p.cfg.Store.Ping(pctx)
	cancel()
	if dbErr != nil && ctx.Err() != nil {
		return // shutting down: not an outage
	}
	var auditErr error
	if p.cfg.Audit != nil {
		auditErr = p.cfg.Audit.Healthy()
		if auditErr != nil && dbErr == nil && p.cfg.ProveAudit != nil {
			pctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
			if err := p.cfg.ProveAudit(pctx, auditErr); err != nil {
				p.cfg.Logger.WarnContext(ctx, "readiness: the audit trail still refuses records", "err", err)
			}
			cancel()
			auditErr = p.cfg.Audit.Healthy()
		}
	}
	rev, hash, _ := p.cfg.Policy()
	now := p.cfg.Now()

	p.mu.Lock()
	defer p.mu.Unlock()
	p.probed = true
	if p.db.set(dbErr, now) {
		p.logChange(ctx, CheckDatabase, dbErr)
	}
	if p.audit.set(auditErr, now) {
		p.logChange(ctx, CheckAudit, auditErr)
	}
	was := p.evals.failing(p.cfg.PolicyMinErrors)
	p.evals.sample(rev, hash, now, p.cfg.PolicyWindow, p.decisions.Load(), p.policyErrors.Load())
	if is := p.evals.failing(p.cfg.PolicyMinErrors); is != was {
		var err error
		if is {
			err = errors.New(p.evals.detail())
		}
		p.logChange(ctx, CheckEvaluations, err)
	}
}

func (p *Prober) logChange(ctx context.Context, check string, err error) {
	if err != nil {
		p.cfg.Logger.WarnContext(ctx, "readiness: check failing", "check", check, "err", err)
		return
	}
	if p.probed {
		p.cfg.Logger.InfoContext(ctx, "readiness: check ok", "check", check)
	}
}

// Report returns the checks: policy and audit as they are now, database
// and policy_evaluations as of the last round.
func (p *Prober) Report() Report {
	now := p.cfg.Now()
	rev, _, active := p.cfg.Policy()
	p.mu.Lock()
	defer p.mu.Unlock()
	checks := make([]Check, 0, 4)
	if active {
		checks = append(checks, Check{Name: CheckPolicy, Status: StatusOK, Detail: fmt.Sprintf("revision %d is active", rev)})
	} else {
		checks = append(checks, Check{Name: CheckPolicy, Status: StatusFailing, Detail: "no policy revision is active"})
	}
	switch {
	case !p.probed:
		checks = append(checks, Check{Name: CheckDatabase, Status: StatusFailing, Detail: "not probed yet"})
	case p.db.err != nil:
		checks = append(checks, Check{Name: CheckDatabase, Status: StatusFailing, Since: p.db.since,
			Detail: "ping failed: " + p.db.err.Error() + "; probing every " + p.cfg.FailingInterval.String()})
	default:
		checks = append(checks, Check{Name: CheckDatabase, Status: StatusOK, Since: p.db.since})
	}
	if p.cfg.Audit != nil {
		// Live: a decision that could not be recorded fails the check at once.
		c := Check{Name: CheckAudit, Status: StatusOK, Since: p.audit.since}
		if err := p.cfg.Audit.Healthy(); err != nil {
			c.Status, c.Detail = StatusFailing, "the last audit commit failed: "+err.Error()
			if p.audit.err == nil {
				c.Since = now
			}
		} else if p.audit.err != nil {
			c.Since = now
		}
		checks = append(checks, c)
	}
	failing := p.evals.failing(p.cfg.PolicyMinErrors)
	c := Check{Name: CheckEvaluations, Status: StatusOK, Since: p.evals.since}
	if failing {
		c.Status, c.Detail = StatusFailing, p.evals.detail()
	}
	checks = append(checks, c)
	return Report{Checks: checks}
}
