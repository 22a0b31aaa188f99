package admin

import (
	"net/netip"
	"sync"
	"time"
)

// LoginLimiter slows down password guessing without letting a guesser lock
// the real admin out. It keeps two kinds of token buckets, each allowing
// Burst failures and then one more every Interval:
//
//   - per client address (an IPv6 address counts as its /64, which one
//     client usually holds whole): strict, every attempt from the address
//     needs a token, so one address guesses at most Burst times and then
//     once per Interval;
//   - per account: spent by every failure from anywhere, so that guesses
//     spread over many addresses are slowed down too, but it applies only
//     to addresses that have failed recently. An address with no failures
//     on record (its bucket is full), or one this account signed in from
//     successfully within KnownFor, is not held back by failures made
//     elsewhere.
//
// So an attacker hammering "admin" from one address is stopped by that
// address's bucket and cannot keep the real admin, at another address,
// from signing in; a guesser with many addresses drains the account
// bucket and then gets one guess per fresh address (its first failure
// puts the address under the account limit). Successful sign-ins spend
// nothing. It is an in-process limit; with several replicas each one
// limits on its own, which still bounds the guessing rate by the replica
// count. The address must be the client's as the server can trust it
// (adminhttp takes forwarded headers only from configured proxies).
type LoginLimiter struct {
	burst    float64
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	// known is when each account last signed in from each address key.
	known map[knownKey]time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

type knownKey struct{ addr, account string }

// KnownFor is how long a successful sign-in from an address exempts that
// address from the account's limit.
const KnownFor = 30 * 24 * time.Hour

// maxLimiterKeys bounds memory under a flood of distinct addresses; full
// buckets carry no information and are dropped first. maxKnown bounds the
// remembered successful sign-ins the same way.
const (
	maxLimiterKeys = 10000
	maxKnown       = 1000
)

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
	return &LoginLimiter{burst: float64(burst), interval: interval, now: now,
		buckets: map[string]*bucket{}, known: map[knownKey]time.Time{}}
}

// Allow reports whether an attempt to sign in to account from addr may
// proceed now, and if not, how long to wait.
func (l *LoginLimiter) Allow(addr, account string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	a := addrKey(addr)
	wait := l.wait(l.refill("addr:"+a, now))
	if !l.exempt(a, account, now) {
		wait = max(wait, l.wait(l.refill("user:"+account, now)))
	}
	return wait == 0, wait
}

// Failed spends one attempt of the address and one of the account.
func (l *LoginLimiter) Failed(addr, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range []string{"addr:" + addrKey(addr), "user:" + account} {
		b := l.refill(k, now)
		b.tokens = max(b.tokens-1, 0)
	}
}

// Succeeded remembers that account signed in from addr, so that failures
// made elsewhere do not hold this address back for KnownFor.
func (l *LoginLimiter) Succeeded(addr, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.known) >= maxKnown {
		for k, at := range l.known {
			if now.Sub(at) > KnownFor || len(l.known) >= maxKnown {
				delete(l.known, k)
			}
		}
	}
	l.known[knownKey{addrKey(addr), account}] = now
}

// exempt reports whether the account's limit spares address a: it has no
// failures on record, or the account signed in from it lately.
func (l *LoginLimiter) exempt(a, account string, now time.Time) bool {
	if at, ok := l.known[knownKey{a, account}]; ok && now.Sub(at) <= KnownFor {
		return true
	}
	return l.refill("addr:"+a, now).tokens >= l.burst
}

func (l *LoginLimiter) wait(b *bucket) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.interval))
}

// addrKey is the bucket of a client address: the address itself, or for
// IPv6 its /64.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
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
