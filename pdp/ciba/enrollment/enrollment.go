package enrollment

import (
	"context"
	"fmt"
	"time"
)

// Status is what is known about a user's ability to approve a CIBA request.
type Status uint8

// The statuses. The zero value is Unknown, so that an Answer nobody filled
// in never reads as Capable.
const (
	Unknown Status = iota
	Capable
	NotCapable
)

// String returns capable, not_capable or unknown.
func (s Status) String() string {
	switch s {
	case Capable:
		return "capable"
	case NotCapable:
		return "not_capable"
	}
	return "unknown"
}

// Answer is the result of one check and why it came out so.
type Answer struct {
	Status Status
	// Reason says why, for the audit record, e.g. "confirmed push
	// authenticator enrolled" or "Management API answered 503".
	Reason string
	// Source names the lookup: auth0, http or assume_enrolled.
	Source string
	// Cached is true when the answer was reused from an earlier lookup.
	Cached bool
}

// User names the user a lookup is about.
type User struct {
	Issuer  string
	Subject string
}

// Result is what a Source found out about a user.
type Result struct {
	Capable bool
	// Detail says what the answer rests on, e.g. "confirmed push
	// authenticator push|dev_1".
	Detail string
}

// Source looks one user up. It returns an error when it cannot tell;
// a *RateLimitError asks the Checker not to call again for a while.
type Source interface {
	// Name is the source's kind for metrics and reasons: auth0, http, …
	Name() string
	Lookup(ctx context.Context, u User) (Result, error)
}

// RateLimitError is a lookup refused because of the source's rate limit
// (HTTP 429). RetryAfter is how long to wait before asking again.
type RateLimitError struct {
	RetryAfter time.Duration
	Op         string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: rate limited (429), retry after %s", e.Op, e.RetryAfter)
}

// Observer receives measurements for metrics. Methods must be cheap and
// safe for concurrent use.
type Observer interface {
	// ObserveEnrollmentLookup counts one call of a Source: result is
	// capable, not_capable, error, rate_limited or timeout.
	ObserveEnrollmentLookup(source, result string, elapsed time.Duration)
	// ObserveEnrollmentCache counts a check answered from the cache
	// (hit), or one that had to look up (miss), or one refused while the
	// source's rate limit lasts (paused).
	ObserveEnrollmentCache(source, result string)
}
