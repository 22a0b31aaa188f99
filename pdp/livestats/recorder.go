package livestats

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
)

// slots is how many minutes a Recorder keeps; a window is at most
// slots-1 minutes so that the slot being reused is never read.
const slots = 16

// MaxWindow is the longest window Snapshot reports.
const MaxWindow = (slots - 1) * time.Minute

// buckets is the number of latency buckets: 8 one-microsecond buckets,
// then 4 per power of two up to 2^37µs (about 38 hours).
const (
	buckets   = 8 + (maxBits-3)*4
	maxBits   = 37
	maxMicros = 1<<maxBits - 1
)

// Recorder counts decisions per minute. The zero value is not usable; use
// New.
type Recorder struct {
	now   func() time.Time
	start time.Time
	slots [slots]slot
}

type slot struct {
	minute atomic.Int64 // Unix minute the counters belong to
	reset  sync.Mutex   // serialises taking the slot for a new minute

	decisions, errors, timeouts atomic.Int64
	latency                     [buckets]atomic.Int64
}

// New returns a Recorder reading time from now (default time.Now).
func New(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	r := &Recorder{now: now, start: now()}
	for i := range r.slots {
		r.slots[i].minute.Store(-1)
	}
	return r
}

// current returns the slot of the minute of t, cleared for it when it
// still held an older minute.
func (r *Recorder) current(t time.Time) *slot {
	m := t.Unix() / 60
	s := &r.slots[m%slots]
	if s.minute.Load() == m {
		return s
	}
	s.reset.Lock()
	if s.minute.Load() != m {
		s.decisions.Store(0)
		s.errors.Store(0)
		s.timeouts.Store(0)
		for i := range s.latency {
			s.latency[i].Store(0)
		}
		// Published after the counters are clear: whoever sees m adds
		// to clean counters.
		s.minute.Store(m)
	}
	s.reset.Unlock()
	return s
}

// ObserveDecision counts one decision and its latency.
func (r *Recorder) ObserveDecision(_ string, _ policy.Outcome, elapsed time.Duration) {
	s := r.current(r.now())
	s.decisions.Add(1)
	s.latency[bucketOf(elapsed)].Add(1)
}

// ObservePolicyError counts an evaluation that failed closed.
func (r *Recorder) ObservePolicyError() { r.current(r.now()).errors.Add(1) }

// ObservePolicyTimeout counts an evaluation that ran out of time (also
// counted by ObservePolicyError).
func (r *Recorder) ObservePolicyTimeout() { r.current(r.now()).timeouts.Add(1) }

// ObserveTokenRejected does nothing: a bad user token is the caller's
// problem, not the engine's.
func (r *Recorder) ObserveTokenRejected(string) {}

// bucketOf returns the latency bucket of d.
func bucketOf(d time.Duration) int {
	us := min(max(d.Microseconds(), 0), maxMicros)
	if us < 8 {
		return int(us)
	}
	l := bits.Len64(uint64(us)) // ≥ 4
	sub := (us >> (l - 3)) & 3
	return 8 + (l-4)*4 + int(sub)
}

// upperBound is the smallest latency above bucket i.
func upperBound(i int) time.Duration {
	if i+1 < 8 {
		return time.Duration(i+1) * time.Microsecond
	}
	j := i + 1 - 8
	l, sub := j/4+4, int64(j%4)
	return time.Duration((4+sub)<<(l-3)) * time.Microsecond
}

// Snapshot is the traffic of a window ending now.
type Snapshot struct {
	// Window is the span covered: the requested one, or less when the
	// process has not been running that long.
	Window    time.Duration
	Decisions int64
	// PerMinute is Decisions over Window.
	PerMinute float64
	// P50 and P99 are latency percentiles, rounded up to their bucket's
	// bound; 0 without decisions.
	P50, P99         time.Duration
	Errors, Timeouts int64
}

// Snapshot sums the minutes of window (clamped to 1..MaxWindow minutes,
// the current partial minute included) ending now.
func (r *Recorder) Snapshot(window time.Duration) Snapshot {
	now := r.now()
	minutes := int64(min(max(window, time.Minute), MaxWindow) / time.Minute)
	cur := now.Unix() / 60
	var out Snapshot
	var lat [buckets]int64
	for m := cur - minutes + 1; m <= cur; m++ {
		s := &r.slots[m%slots]
		if s.minute.Load() != m {
			continue
		}
		out.Decisions += s.decisions.Load()
		out.Errors += s.errors.Load()
		out.Timeouts += s.timeouts.Load()
		for i := range lat {
			lat[i] += s.latency[i].Load()
		}
	}
	out.Window = time.Duration(minutes-1)*time.Minute + now.Sub(time.Unix(cur*60, 0))
	out.Window = min(out.Window, now.Sub(r.start))
	if out.Window > 0 {
		out.PerMinute = float64(out.Decisions) / out.Window.Minutes()
	}
	out.P50, out.P99 = percentile(&lat, 0.50), percentile(&lat, 0.99)
	return out
}

// percentile returns the upper bound of the bucket holding quantile q.
func percentile(lat *[buckets]int64, q float64) time.Duration {
	var total int64
	for _, n := range lat {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := int64(q*float64(total-1)) + 1 // 1-based rank of the quantile
	var seen int64
	for i, n := range lat {
		if seen += n; seen >= rank {
			return upperBound(i)
		}
	}
	return upperBound(buckets - 1)
}
