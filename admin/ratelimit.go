package admin

import (
	"sync"
	"time"
)

// LoginLimiter slows down password guessing: each key (client address, and
// separately the account) may fail Burst times, after which one more attempt
// is allowed every Interval. Successful sign-ins do not count. It is an
// in-process limit; with several replicas each one limits on its own, which
// still bounds the guessing rate by the replica count.
type LoginLimiter struct {
	burst    float64
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxLimiterKeys bounds memory under a flood of distinct addresses; full
// buckets carry no information and are dropped first.
const maxLimiterKeys = 10000

// NewLoginLimiter returns a limiter; burst defaults to 5, interval to 1m.
func NewLoginLimiter(burst int, interval time.Duration, now func() time.Time) *LoginLimiter {
	if burst <= 0 {
		burst = 5
	}
	if interval <= 0 {
		interval = time.Minute
	}
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{burst: float64(burst), interval: interval, now: now, buckets: map[string]*bucket{}}
}

// Allow reports whether an attempt for every key may proceed now, and if
// not, how long to wait.
func (l *LoginLimiter) Allow(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		b := l.refill(k, now)
		if b.tokens < 1 {
			w := time.Duration((1 - b.tokens) * float64(l.interval))
			wait = max(wait, w)
		}
	}
	return wait == 0, wait
}

// Failed spends one attempt of every key.
func (l *LoginLimiter) Failed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		b := l.refill(k, now)
		b.tokens = max(b.tokens-1, 0)
	}
}

func (l *LoginLimiter) refill(k string, now time.Time) *bucket {
	b, ok := l.buckets[k]
	if !ok {
		if len(l.buckets) >= maxLimiterKeys {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[k] = b
		return b
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(l.burst, b.tokens+float64(el)/float64(l.interval))
		b.at = now
	}
	return b
}

func (l *LoginLimiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(l.interval) >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxLimiterKeys {
		clear(l.buckets)
	}
}
