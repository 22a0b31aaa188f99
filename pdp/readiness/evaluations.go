package readiness

import (
	"fmt"
	"time"
)

// evaluations keeps samples of the decision and policy error counters
// taken at each round, over PolicyWindow, for one policy revision.
type evaluations struct {
	rev     int64
	hash    string
	samples []sample
	// since is when policy_evaluations entered its current state.
	since  time.Time
	status bool
	// window is the sampled span, for the detail.
	window time.Duration
}

type sample struct {
	at                time.Time
	decisions, errors uint64
}

// sample records the counters at now. A new revision starts afresh from
// the last sample taken before the prober saw it: the evidence before that
// was about the old revision, and what the new one did before this round
// (it may fail everything at once) counts. Samples older than window are
// dropped, except the newest of them, which is the window's baseline.
func (e *evaluations) sample(rev int64, hash string, now time.Time, window time.Duration, decisions, errors uint64) {
	if rev != e.rev || hash != e.hash {
		e.rev, e.hash = rev, hash
		if n := len(e.samples); n > 1 {
			e.samples = append(e.samples[:0], e.samples[n-1])
		}
	}
	e.samples = append(e.samples, sample{at: now, decisions: decisions, errors: errors})
	drop := 0
	for drop+1 < len(e.samples) && now.Sub(e.samples[drop+1].at) >= window {
		drop++
	}
	e.samples = e.samples[drop:]
	e.window = now.Sub(e.samples[0].at)
}

// counts returns the decisions and policy errors since the baseline.
func (e *evaluations) counts() (decisions, errors uint64) {
	if len(e.samples) < 2 {
		return 0, 0
	}
	first, last := e.samples[0], e.samples[len(e.samples)-1]
	return last.decisions - first.decisions, last.errors - first.errors
}

// failing: at least minErrors evaluations failed in the window and there
// were no more decisions than failures. ObservePolicyError comes before
// ObserveDecision for the same call, so a call in flight at a sample
// counts as a failure a little early, never as a success.
func (e *evaluations) failing(minErrors int) bool {
	d, errs := e.counts()
	failing := errs >= uint64(minErrors) && errs >= d
	if failing != e.status || e.since.IsZero() {
		e.status = failing
		if len(e.samples) > 0 {
			e.since = e.samples[len(e.samples)-1].at
		}
	}
	return failing
}

func (e *evaluations) detail() string {
	d, errs := e.counts()
	return fmt.Sprintf("revision %d failed every evaluation of the last %s (%d errors, %d decisions): every answer is a fail-closed deny",
		e.rev, e.window.Round(time.Second), errs, d)
}
