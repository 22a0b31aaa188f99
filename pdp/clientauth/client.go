package clientauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Errors of client authentication and permission.
var (
	ErrUnauthenticated = errors.New("unknown or missing client key")
	ErrForbidden       = errors.New("forbidden")
	// ErrUnavailable means a dependency (the store) failed, so the request
	// could be neither answered nor refused; the caller should retry
	// shortly. The HTTP adapters answer it 503 with Retry-After.
	ErrUnavailable = errors.New("temporarily unavailable")
)

// Client is an authenticated caller of the decision API.
type Client struct {
	ID           string
	AssertClaims bool
	ReturnTo     []string
	// PreviousKey is true when the caller used the key a rotation replaced,
	// accepted until KeyExpiresAt; the current key has no expiry (zero).
	PreviousKey  bool
	KeyExpiresAt time.Time
}

// HashKey returns the hex SHA-256 under which a client key is stored. Keys
// are 256-bit random strings, so a plain hash (not a password KDF) is right:
// there is nothing to brute-force.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewClientKey returns a fresh client key: 256 random bits. The error is
// always nil (crypto/rand does not fail); it stays for callers' sake.
func NewClientKey() (string, error) {
	return "sgk_" + rand.Text() + rand.Text(), nil
}

// ClientLookup finds a client by the hash of its key; it returns an error
// wrapping ErrUnauthenticated for an unknown or disabled key.
type ClientLookup interface {
	ClientByKeyHash(ctx context.Context, keyHash string) (Client, error)
}

// Authenticator checks client keys with a short-lived cache in front of the
// store, so the hot path does not hit the database on every request. A
// revoked key stops working within TTL.
type Authenticator struct {
	lookup ClientLookup
	ttl    time.Duration
	now    func() time.Time

	mu    sync.RWMutex
	cache map[string]cachedClient

	uses usage
}

type cachedClient struct {
	client  Client
	err     error
	expires time.Time
}

// maxCachedClients bounds the cache; unknown keys are cached too (briefly)
// so that a flood of bad keys cannot hammer the store.
const maxCachedClients = 4096

// NewAuthenticator returns an Authenticator; ttl defaults to 5s.
func NewAuthenticator(lookup ClientLookup, ttl time.Duration, now func() time.Time) *Authenticator {
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &Authenticator{lookup: lookup, ttl: ttl, now: now, cache: map[string]cachedClient{}}
}

// Authenticate returns the client owning key. A lookup that fails for any
// other reason than an unknown key (the store is down) returns an error
// wrapping ErrUnavailable, and is not cached.
func (a *Authenticator) Authenticate(ctx context.Context, key string) (Client, error) {
	if key == "" {
		return Client{}, ErrUnauthenticated
	}
	h := HashKey(key)
	now := a.now()
	a.mu.RLock()
	e, ok := a.cache[h]
	a.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return a.accept(e.client, e.err, now)
	}
	c, err := a.lookup.ClientByKeyHash(ctx, h)
	if err != nil && !errors.Is(err, ErrUnauthenticated) {
		return Client{}, fmt.Errorf("%w: look up client key: %w", ErrUnavailable, err)
	}
	a.mu.Lock()
	if len(a.cache) >= maxCachedClients {
		for k, v := range a.cache {
			if !now.Before(v.expires) || len(a.cache) >= maxCachedClients {
				delete(a.cache, k)
			}
		}
	}
	a.cache[h] = cachedClient{client: c, err: err, expires: now.Add(a.ttl)}
	a.mu.Unlock()
	return a.accept(c, err, now)
}

// accept applies what a cached answer cannot know: a previous key stops
// working the moment its overlap ends, not up to TTL later. It notes the
// use of every key it accepts.
func (a *Authenticator) accept(c Client, err error, now time.Time) (Client, error) {
	if err != nil {
		return Client{}, err
	}
	if !c.KeyExpiresAt.IsZero() && !now.Before(c.KeyExpiresAt) {
		return Client{}, fmt.Errorf("%w: the previous key of client %s expired at %s", ErrUnauthenticated,
			c.ID, c.KeyExpiresAt.UTC().Format(time.RFC3339))
	}
	a.uses.note(c.ID, c.PreviousKey, now)
	return c, nil
}

// Forget drops cached entries so that a key change takes effect at once in
// this process.
func (a *Authenticator) Forget() {
	a.mu.Lock()
	clear(a.cache)
	a.mu.Unlock()
}

// ErrInvalidRequest is wrapped by every validation error; its message is
// safe to show the caller as error_description.
var ErrInvalidRequest = errors.New("invalid request")

func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// ReturnToAllowed reports whether target matches one of the client's
// allowed prefixes. Scheme and host must be equal (so that
// https://app.example cannot be extended to https://app.example.evil), the
// path must start at a segment boundary, and userinfo is refused.
func (c Client) ReturnToAllowed(target string) bool {
	t, err := url.Parse(target)
	if err != nil || !t.IsAbs() || t.User != nil || t.Host == "" || t.Opaque != "" {
		return false
	}
	for _, a := range c.ReturnTo {
		p, err := url.Parse(a)
		if err != nil || !p.IsAbs() {
			continue
		}
		if !strings.EqualFold(p.Scheme, t.Scheme) || !strings.EqualFold(p.Host, t.Host) {
			continue
		}
		prefix := p.EscapedPath()
		path := t.EscapedPath()
		if prefix == "" || prefix == "/" || path == prefix ||
			strings.HasPrefix(path, strings.TrimSuffix(prefix, "/")+"/") {
			return true
		}
	}
	return false
}

// Shorten cuts a caller-supplied value to n bytes for an error message.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
