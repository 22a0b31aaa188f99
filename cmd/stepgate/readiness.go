package main

import (
	"context"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/readiness"
)

// readinessActor writes the record that proves the audit trail accepts
// records again after a failure.
const readinessActor = "system:readiness"

// actionAuditResumed is the admin record the readiness prober writes when
// the audit trail accepts records again after a failed commit.
const actionAuditResumed = "audit.resumed"

// newReadiness builds the prober behind /readyz (see package readiness).
// Only a sync writer needs the proof record: an async one keeps retrying
// its queued records and recovers with the first commit by itself.
func (a *app) newReadiness() (*readiness.Prober, error) {
	rc := a.cfg.Readiness
	cfg := readiness.Config{Store: a.store, Audit: a.audit, Policy: a.activeRevision,
		Interval: rc.Interval, FailingInterval: rc.FailingInterval, PolicyWindow: rc.PolicyWindow,
		PolicyMinErrors: rc.PolicyMinErrors, Logger: a.log}
	if a.cfg.Audit.Mode != "async" {
		cfg.ProveAudit = a.proveAudit
	}
	return readiness.New(cfg)
}

// proveAudit records, through the audit writer, that the trail accepts
// records again, and what the last failure was: the commit is the proof,
// and the record marks the gap in the trail.
func (a *app) proveAudit(ctx context.Context, lastErr error) error {
	return a.policies.Recorder().Event(ctx, readinessActor, actionAuditResumed, admin.OutcomeOK, "",
		map[string]any{"after_error": lastErr.Error()})
}

func (a *app) activeRevision() (int64, string, bool) {
	p := a.engine.Active()
	if p == nil {
		return 0, "", false
	}
	id, hash := p.Revision()
	return id, hash, true
}

// observers hands every measurement of the decision path to each observer
// (metrics and readiness).
type observers []pdp.Observer

func (o observers) ObserveDecision(api string, outcome policy.Outcome, elapsed time.Duration) {
	for _, x := range o {
		x.ObserveDecision(api, outcome, elapsed)
	}
}

func (o observers) ObserveTokenRejected(code string) {
	for _, x := range o {
		x.ObserveTokenRejected(code)
	}
}

func (o observers) ObservePolicyError() {
	for _, x := range o {
		x.ObservePolicyError()
	}
}

func (o observers) ObservePolicyTimeout() {
	for _, x := range o {
		x.ObservePolicyTimeout()
	}
}
