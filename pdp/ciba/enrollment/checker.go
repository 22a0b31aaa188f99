package enrollment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// CheckerConfig configures a Checker. Source is required.
type CheckerConfig struct {
	Source Source
	// TTL is how long a capable or not-capable answer is reused; default 60s.
	TTL time.Duration
	// FailureTTL is how long a failed lookup is answered Unknown without
	// asking again, so that an outage does not cost every decision a
	// timeout; default 5s.
	FailureTTL time.Duration
	// Timeout is the most one check waits for a lookup, and the most a
	// lookup may take; default 1s.
	Timeout time.Duration
	// MaxUsers bounds how many users' answers are kept; default 10000.
	MaxUsers int
	// Observer gets metrics; nil observes nothing.
	Observer Observer
	// Now is the clock for cache expiry and rate-limit pauses; default
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Checker answers whether a user can approve a CIBA request, from a Source
// behind a per-user cache. It is safe for concurrent use.
type Checker struct {
	cfg   CheckerConfig
	cache *lru.Cache[User, entry]
	group singleflight.Group

	mu          sync.Mutex
	pausedUntil time.Time // the source asked not to be called before
}

type entry struct {
	answer  Answer
	expires time.Time
}

// NewChecker validates cfg and returns a Checker.
func NewChecker(cfg CheckerConfig) (*Checker, error) {
	if cfg.Source == nil {
		return nil, errors.New("enrollment: checker config: Source is required")
	}
	if cfg.TTL < 0 || cfg.FailureTTL < 0 || cfg.Timeout < 0 || cfg.MaxUsers < 0 {
		return nil, errors.New("enrollment: checker config: durations and sizes must not be negative")
	}
	cfg.TTL = cmp.Or(cfg.TTL, time.Minute)
	cfg.FailureTTL = cmp.Or(cfg.FailureTTL, 5*time.Second)
	cfg.Timeout = cmp.Or(cfg.Timeout, time.Second)
	cfg.MaxUsers = cmp.Or(cfg.MaxUsers, 10000)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cache, err := lru.New[User, entry](cfg.MaxUsers)
	if err != nil {
		return nil, fmt.Errorf("enrollment: checker cache: %w", err)
	}
	return &Checker{cfg: cfg, cache: cache}, nil
}

// Check answers for u: from the cache while its answer is fresh, else from
// one lookup shared by every concurrent check for u. It never takes longer
// than the configured timeout (or ctx, when that ends first) and never
// fails: whatever goes wrong is Unknown with a reason.
func (c *Checker) Check(ctx context.Context, u User) Answer {
	name := c.cfg.Source.Name()
	now := c.cfg.Now()
	if e, ok := c.cache.Get(u); ok && now.Before(e.expires) {
		c.observeCache(name, "hit")
		a := e.answer
		a.Cached = true
		return a
	}
	if until, paused := c.paused(now); paused {
		c.observeCache(name, "paused")
		return Answer{Status: Unknown, Source: name,
			Reason: fmt.Sprintf("%s lookup paused by its rate limit until %s", name, until.UTC().Format(time.RFC3339))}
	}
	c.observeCache(name, "miss")
	key := u.Issuer + "\x00" + u.Subject
	ch := c.group.DoChan(key, func() (any, error) {
		// Detached from the first caller: its deadline must not fail the
		// lookup that other callers wait for too.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
		defer cancel()
		return c.lookup(lctx, u), nil
	})
	wait, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	select {
	case r := <-ch:
		return r.Val.(Answer)
	case <-wait.Done():
		return Answer{Status: Unknown, Source: name,
			Reason: fmt.Sprintf("%s lookup did not answer within %s", name, c.cfg.Timeout)}
	}
}

// lookup asks the source and caches what it says.
func (c *Checker) lookup(ctx context.Context, u User) Answer {
	name := c.cfg.Source.Name()
	start := c.cfg.Now()
	res, err := c.cfg.Source.Lookup(ctx, u)
	now := c.cfg.Now()
	elapsed := now.Sub(start)
	if err != nil {
		result := "error"
		var rl *RateLimitError
		switch {
		case errors.As(err, &rl):
			result = "rate_limited"
			c.pause(now.Add(rl.RetryAfter))
		case ctx.Err() != nil:
			result = "timeout"
		}
		c.observeLookup(name, result, elapsed)
		c.cfg.Logger.WarnContext(ctx, "ciba enrollment lookup failed; answering unknown",
			"source", name, "issuer", u.Issuer, "sub", u.Subject, "err", err)
		a := Answer{Status: Unknown, Source: name, Reason: fmt.Sprintf("%s lookup failed: %v", name, err)}
		c.cache.Add(u, entry{answer: a, expires: now.Add(c.cfg.FailureTTL)})
		return a
	}
	a := Answer{Status: NotCapable, Source: name, Reason: res.Detail}
	if res.Capable {
		a.Status = Capable
	}
	c.observeLookup(name, a.Status.String(), elapsed)
	c.cache.Add(u, entry{answer: a, expires: now.Add(c.cfg.TTL)})
	return a
}

func (c *Checker) pause(until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
}

func (c *Checker) paused(now time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pausedUntil, now.Before(c.pausedUntil)
}

func (c *Checker) observeCache(source, result string) {
	if c.cfg.Observer != nil {
		c.cfg.Observer.ObserveEnrollmentCache(source, result)
	}
}

func (c *Checker) observeLookup(source, result string, elapsed time.Duration) {
	if c.cfg.Observer != nil {
		c.cfg.Observer.ObserveEnrollmentLookup(source, result, elapsed)
	}
}
