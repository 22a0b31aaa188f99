package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stepgate/stepgate/storage/audit"
)

// auditCollector exports the audit writer's counters at scrape time, so the
// writer itself stays free of Prometheus.
type auditCollector struct{ w *audit.Writer }

var (
	auditDescs = map[string]*prometheus.Desc{
		"enqueued":   prometheus.NewDesc("stepgate_audit_enqueued_total", "Audit records accepted by the writer.", nil, nil),
		"committed":  prometheus.NewDesc("stepgate_audit_committed_total", "Audit records committed to the database.", nil, nil),
		"batches":    prometheus.NewDesc("stepgate_audit_batches_total", "Audit transactions committed (group commits).", nil, nil),
		"failed":     prometheus.NewDesc("stepgate_audit_failed_attempts_total", "Audit append attempts that failed and were retried or reported.", nil, nil),
		"syncFailed": prometheus.NewDesc("stepgate_audit_sync_failed_total", "Sync audit writes that failed; their decisions were answered deny.", nil, nil),
		"queueFull":  prometheus.NewDesc("stepgate_audit_queue_full_total", "Audit writes refused because the queue stayed full (decisions failed closed).", nil, nil),
		"refused":    prometheus.NewDesc("stepgate_audit_refused_total", "Async audit writes refused because the database had been failing too long (decisions failed closed).", nil, nil),
		"spilled":    prometheus.NewDesc("stepgate_audit_spilled_total", "Acknowledged async records written to a spill file at shutdown because the database failed; replayed at the next start.", nil, nil),
		"replayed":   prometheus.NewDesc("stepgate_audit_replayed_total", "Spilled audit records committed to the database.", nil, nil),
		"lost":       prometheus.NewDesc("stepgate_audit_lost_total", "Acknowledged audit records written neither to the database nor to a spill file (named in the log and by audit verify); stays 0 in normal operation.", nil, nil),
		"depth":      prometheus.NewDesc("stepgate_audit_queue_depth", "Audit records waiting to be committed.", nil, nil),
		"journaled":  prometheus.NewDesc("stepgate_audit_journaled_total", "Audit records made durable in the local journal.", nil, nil),
		"backlog":    prometheus.NewDesc("stepgate_audit_index_backlog", "Journaled audit records not yet in the database (not yet searchable).", nil, nil),
		"indexLag":   prometheus.NewDesc("stepgate_audit_index_lag_seconds", "Seconds since the database last took journaled records, while some wait; 0 when none wait.", nil, nil),
		"throttled":  prometheus.NewDesc("stepgate_audit_index_throttle_seconds_total", "Seconds the audit journal waited for the database to index what it was ahead by (audit index lead): the database set the pace.", nil, nil),
	}
)

func (c auditCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range auditDescs {
		ch <- d
	}
}

func (c auditCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.w.Stats()
	counter := func(k string, v uint64) {
		ch <- prometheus.MustNewConstMetric(auditDescs[k], prometheus.CounterValue, float64(v))
	}
	counter("enqueued", s.Enqueued)
	counter("committed", s.Committed)
	counter("batches", s.Batches)
	counter("failed", s.FailedAttempts)
	counter("syncFailed", s.SyncFailed)
	counter("queueFull", s.QueueFull)
	counter("refused", s.Refused)
	counter("spilled", s.Spilled)
	counter("replayed", s.Replayed)
	counter("lost", s.Lost)
	ch <- prometheus.MustNewConstMetric(auditDescs["depth"], prometheus.GaugeValue, float64(s.QueueDepth))
	if js, ok := c.w.Journal(); ok {
		counter("journaled", uint64(js.Journaled))
		ch <- prometheus.MustNewConstMetric(auditDescs["backlog"], prometheus.GaugeValue, float64(js.Backlog))
		lag := 0.0
		if js.Backlog > 0 && !js.IndexedAt.IsZero() {
			lag = time.Since(js.IndexedAt).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(auditDescs["indexLag"], prometheus.GaugeValue, lag)
		ch <- prometheus.MustNewConstMetric(auditDescs["throttled"], prometheus.CounterValue, s.Throttled.Seconds())
	}
}
