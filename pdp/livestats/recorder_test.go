package livestats

import (
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBucketsCoverEveryLatencyInOrder(t *testing.T) {
	prev := time.Duration(0)
	for i := range buckets {
		up := upperBound(i)
		if up <= prev {
			t.Fatalf("bucket %d upper bound %v not above %v", i, up, prev)
		}
		for _, d := range []time.Duration{prev, up - time.Microsecond} {
			if got := bucketOf(d); got != i {
				t.Fatalf("bucketOf(%v) = %d, want %d (bounds %v–%v)", d, got, i, prev, up)
			}
		}
		if i >= 8 && float64(up)/float64(prev) > 1.26 {
			t.Errorf("bucket %d spans %v–%v, more than 26%%", i, prev, up)
		}
		prev = up
	}
	if bucketOf(-time.Second) != 0 || bucketOf(1000*time.Hour) != buckets-1 {
		t.Error("out-of-range latencies are not clamped to the end buckets")
	}
}

func TestSnapshotRatesPercentilesAndErrors(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 1, 10, 0, 30, 0, time.UTC)}
	r := New(clk.now)
	clk.add(10 * time.Minute) // the process has run long enough
	// 1000 decisions over five minutes: 980 fast (100µs–1ms), 20 slow (50ms).
	for m := range 5 {
		for i := range 200 {
			d := time.Duration(100+i*4) * time.Microsecond
			if m*200+i >= 980 {
				d = 50 * time.Millisecond
			}
			r.ObserveDecision("native", policy.Allow, d)
		}
		if m < 3 {
			r.ObservePolicyError()
		}
		if m == 0 {
			r.ObservePolicyTimeout()
		}
		clk.add(time.Minute)
	}
	s := r.Snapshot(15 * time.Minute)
	if s.Decisions != 1000 || s.Errors != 3 || s.Timeouts != 1 {
		t.Fatalf("snapshot = %+v, want 1000 decisions, 3 errors, 1 timeout", s)
	}
	if s.Window != 15*time.Minute-30*time.Second {
		// 14 whole minutes and the 30 s of the current one.
		t.Errorf("window = %v", s.Window)
	}
	if want := 1000 / s.Window.Minutes(); s.PerMinute != want {
		t.Errorf("per minute = %v, want %v", s.PerMinute, want)
	}
	// The median of 100–896µs is near 500µs; the 99th percentile is slow.
	if s.P50 < 450*time.Microsecond || s.P50 > 650*time.Microsecond {
		t.Errorf("p50 = %v, want about 500µs", s.P50)
	}
	if s.P99 < 50*time.Millisecond || s.P99 > 63*time.Millisecond {
		t.Errorf("p99 = %v, want 50ms rounded up to its bucket", s.P99)
	}
	short := r.Snapshot(2 * time.Minute)
	if short.Decisions != 200 {
		t.Errorf("2-minute window holds %d decisions, want the last minute's 200", short.Decisions)
	}

	clk.add(16 * time.Minute)
	if s := r.Snapshot(15 * time.Minute); s.Decisions != 0 || s.P50 != 0 || s.Errors != 0 {
		t.Errorf("after 16 quiet minutes: %+v, want nothing", s)
	}
	r.ObserveDecision("native", policy.Deny, time.Millisecond)
	if s := r.Snapshot(time.Minute); s.Decisions != 1 {
		t.Errorf("a reused slot holds %d decisions, want 1", s.Decisions)
	}
}

func TestSnapshotWindowNeverExceedsUptime(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	r := New(clk.now)
	clk.add(90 * time.Second)
	for range 30 {
		r.ObserveDecision("native", policy.Allow, time.Millisecond)
	}
	s := r.Snapshot(15 * time.Minute)
	if s.Window != 90*time.Second || s.PerMinute != 20 {
		t.Errorf("snapshot 90 s after start = %+v, want a 90 s window and 20/min", s)
	}
}

func TestRecorderIsSafeForConcurrentUse(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	r := New(clk.now)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				r.ObserveDecision("native", policy.Allow, time.Duration(g*i)*time.Microsecond)
				if i%100 == 0 {
					r.ObservePolicyError()
					r.Snapshot(5 * time.Minute)
				}
			}
		})
	}
	wg.Wait()
	if s := r.Snapshot(time.Minute); s.Decisions != 4000 || s.Errors != 40 {
		t.Errorf("snapshot = %+v, want 4000 decisions and 40 errors", s)
	}
}
