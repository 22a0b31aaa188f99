// Package pdpmetrics exports the decision core's measurements to
// Prometheus: decisions by API and outcome, decision latency, user tokens
// rejected by defect, policy evaluation failures, and CIBA enrollment
// lookups (results, latency, cache hits). It implements pdp.Observer and
// enrollment.Observer so that pdp itself stays free of Prometheus.
package pdpmetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stepgate/stepgate/pdp/policy"
)

// Metrics implements pdp.Observer with Prometheus collectors.
type Metrics struct {
	decisions      *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	tokensRejected *prometheus.CounterVec
	policyErrors   prometheus.Counter
	policyTimeouts prometheus.Counter
	enrollLookups  *prometheus.CounterVec
	enrollLatency  *prometheus.HistogramVec
	enrollCache    *prometheus.CounterVec
}

// New registers the collectors with reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stepgate_decisions_total",
			Help: "Decisions answered, by API and outcome.",
		}, []string{"api", "decision"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stepgate_decision_duration_seconds",
			Help:    "Time to answer one decision, from receipt to audit hand-off.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"api"}),
		tokensRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stepgate_token_verification_failures_total",
			Help: "User tokens rejected, by defect (expired, bad_signature, ...).",
		}, []string{"code"}),
		policyErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stepgate_policy_errors_total",
			Help: "Policy evaluations that failed and were answered deny (fail closed).",
		}),
		policyTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stepgate_policy_timeouts_total",
			Help: "Policy evaluations that ran out of time (also counted in stepgate_policy_errors_total).",
		}),
		enrollLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stepgate_ciba_enrollment_lookups_total",
			Help: "CIBA enrollment lookups sent, by source and result (capable, not_capable, error, rate_limited, timeout).",
		}, []string{"source", "result"}),
		enrollLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stepgate_ciba_enrollment_lookup_duration_seconds",
			Help:    "Time of one CIBA enrollment lookup, by source.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"source"}),
		enrollCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stepgate_ciba_enrollment_checks_total",
			Help: "CIBA enrollment checks, by source and how they were answered (hit: cached, miss: looked up, paused: unknown while the source's rate limit lasts).",
		}, []string{"source", "result"}),
	}
	for _, c := range []prometheus.Collector{m.decisions, m.latency, m.tokensRejected, m.policyErrors, m.policyTimeouts,
		m.enrollLookups, m.enrollLatency, m.enrollCache} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ObserveDecision counts one decision and its latency.
func (m *Metrics) ObserveDecision(api string, outcome policy.Outcome, elapsed time.Duration) {
	m.decisions.WithLabelValues(api, string(outcome)).Inc()
	m.latency.WithLabelValues(api).Observe(elapsed.Seconds())
}

// ObserveTokenRejected counts a rejected user token.
func (m *Metrics) ObserveTokenRejected(code string) { m.tokensRejected.WithLabelValues(code).Inc() }

// ObservePolicyError counts a fail-closed evaluation.
func (m *Metrics) ObservePolicyError() { m.policyErrors.Inc() }

// ObservePolicyTimeout counts an evaluation that ran out of time.
func (m *Metrics) ObservePolicyTimeout() { m.policyTimeouts.Inc() }

// ObserveEnrollmentLookup counts one CIBA enrollment lookup and its latency.
func (m *Metrics) ObserveEnrollmentLookup(source, result string, elapsed time.Duration) {
	m.enrollLookups.WithLabelValues(source, result).Inc()
	m.enrollLatency.WithLabelValues(source).Observe(elapsed.Seconds())
}

// ObserveEnrollmentCache counts how one CIBA enrollment check was answered.
func (m *Metrics) ObserveEnrollmentCache(source, result string) {
	m.enrollCache.WithLabelValues(source, result).Inc()
}
