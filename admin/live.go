package admin

import "time"

// LiveStats is this replica's recent decision traffic as measured in the
// process (see pdp/livestats): what a dashboard needs within seconds,
// which counting the audit trail could not give cheaply.
type LiveStats struct {
	// Window is the span the figures cover, ending now.
	Window time.Duration
	// Decisions counts the decisions answered in Window; PerMinute is
	// their average rate.
	Decisions int64
	PerMinute float64
	// P50 and P99 are decision latency percentiles (0 without decisions).
	P50, P99 time.Duration
	// Errors counts policy evaluations that failed and were answered deny
	// (fail closed), Timeouts those among them that ran out of time.
	Errors, Timeouts int64
}
