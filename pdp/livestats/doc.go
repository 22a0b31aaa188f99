// Package livestats measures this process's recent decisions for the admin
// dashboard: decisions per minute, latency percentiles, and policy
// evaluations that failed closed or ran out of time, over the last minutes.
//
// A Recorder is a pdp.Observer (wired beside the Prometheus metrics in
// cmd/stepgate). Observing costs a few atomic additions into the slot of
// the current minute, so it stays off the decision path's critical
// section; Snapshot sums the slots of the window. Latencies go into
// logarithmic buckets (four per power of two, so a percentile is exact to
// within 19%), which is what a dashboard needs and bounded in memory
// whatever the traffic. Figures are per replica: each process sees only
// the decisions it answered.
package livestats
