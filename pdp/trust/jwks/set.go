package jwks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults of Config.
const (
	DefaultRefreshMin         = 30 * time.Second
	DefaultRefreshMax         = 5 * time.Minute
	DefaultUnknownKIDInterval = 5 * time.Second
	// fetchTimeout bounds one fetch even with a client without a timeout.
	fetchTimeout = 30 * time.Second
)

// Config configures a Set. URL and Client are required; zero durations
// take the defaults named in the field comments.
type Config struct {
	// URL is the provider's jwks_uri.
	URL string
	// Client fetches the key set.
	Client *http.Client
	// RefreshMin is the least lifetime of a fetched key set, however small
	// its max-age (0, no-cache and no-store included); default 30s. It keeps
	// a provider's caching headers from making us fetch on every token.
	RefreshMin time.Duration
	// RefreshMax is the longest lifetime of a fetched key set, however large
	// its max-age, and the lifetime when it sends none; default 5m. It is the
	// longest a key removed by the provider stays trusted.
	RefreshMax time.Duration
	// UnknownKIDInterval is the least time between two fetches caused by a
	// token that no known key verifies, and the first backoff after a failed
	// fetch; default 5s.
	UnknownKIDInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives refresh failures and dropped keys; default discards.
	Logger *slog.Logger
}

// Set is one provider's key set, refreshed as the package doc describes.
// It is safe for concurrent use.
type Set struct {
	cfg  Config
	log  *slog.Logger
	keys atomic.Pointer[keySnapshot] // nil until the first successful fetch

	mu          sync.Mutex
	inflight    chan struct{} // closed when the running fetch has finished
	lastAttempt time.Time
	failures    int       // consecutive failed fetches
	retryAt     time.Time // no new fetch before, after a failure
	lastErr     error
}

// New validates cfg and returns a Set. It does not fetch anything: the
// first verification does.
func New(cfg Config) (*Set, error) {
	switch {
	case cfg.URL == "" || cfg.Client == nil:
		return nil, errors.New("jwks: config: URL and Client are required")
	case cfg.RefreshMin < 0 || cfg.RefreshMax < 0 || cfg.UnknownKIDInterval < 0:
		return nil, errors.New("jwks: config: durations must not be negative")
	}
	cfg.RefreshMax = cmp.Or(cfg.RefreshMax, DefaultRefreshMax)
	cfg.RefreshMin = cmp.Or(cfg.RefreshMin, min(DefaultRefreshMin, cfg.RefreshMax))
	cfg.UnknownKIDInterval = cmp.Or(cfg.UnknownKIDInterval, DefaultUnknownKIDInterval)
	if cfg.RefreshMin > cfg.RefreshMax {
		return nil, fmt.Errorf("jwks: config: refresh minimum %s exceeds the maximum %s", cfg.RefreshMin, cfg.RefreshMax)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Set{cfg: cfg, log: log.With("jwks_uri", cfg.URL)}, nil
}

// VerifySignature implements oidc.KeySet: it returns the payload of jwt
// when a current key verifies its signature. Only go-oidc's verifier should
// call it, since it checks neither the alg against a policy nor any claim.
// Fetch failures are reported as "fetching keys …" errors, the words
// go-oidc's RemoteKeySet uses and callers classify by.
func (s *Set) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSigned(jwt, signingAlgs)
	if err != nil {
		return nil, fmt.Errorf("jwks: malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("jwks: the token does not carry exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	k, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if payload, ok := k.verify(jws, kid); ok {
		return payload, nil
	}
	// As OpenID Connect Core §10.1.1 recommends: an unknown kid may be a
	// rotation, so look again, but not more than once per interval.
	fresh, err := s.refreshForUnknownKID(ctx)
	if err != nil {
		return nil, err
	}
	if fresh != nil && fresh != k {
		if payload, ok := fresh.verify(jws, kid); ok {
			return payload, nil
		}
	}
	return nil, fmt.Errorf("jwks: no key of the set verifies the signature (kid %q)", kid)
}

// Generation returns a number that changes whenever a refresh drops a key
// (or replaces one under the same kid). A caller that remembers a
// verification stores the generation read before verifying and trusts the
// memory only while it is unchanged. Like VerifySignature it refreshes the
// set first when its lifetime is over, so that removals are seen on
// schedule also by callers that answer from memory; 0 means no set was
// ever fetched.
func (s *Set) Generation(ctx context.Context) uint64 {
	k, _ := s.current(ctx)
	if k == nil {
		return 0
	}
	return k.generation
}

// current returns the keys in force, refreshing them as the schedule says:
// a first fetch and an expired set are waited for (unless the last fetch
// failed: then the last good set is served while a retry runs), a set three
// quarters through its lifetime is refreshed in the background.
func (s *Set) current(ctx context.Context) (*keySnapshot, error) {
	now := s.cfg.Now()
	k := s.keys.Load()
	switch {
	case k == nil:
		return s.refresh(ctx, now, true, false)
	case !now.Before(k.expires):
		s.mu.Lock()
		failing := s.failures > 0
		s.mu.Unlock()
		return s.refresh(ctx, now, !failing, false)
	case !now.Before(k.refreshAt):
		return s.refresh(ctx, now, false, false)
	}
	return k, nil
}

// refreshForUnknownKID fetches the set again for a token no known key
// verifies, unless a fetch happened within UnknownKIDInterval or a failed
// one is being backed off from; it returns nil when it did not fetch.
func (s *Set) refreshForUnknownKID(ctx context.Context) (*keySnapshot, error) {
	now := s.cfg.Now()
	s.mu.Lock()
	throttled := s.inflight == nil && (now.Sub(s.lastAttempt) < s.cfg.UnknownKIDInterval || now.Before(s.retryAt))
	s.mu.Unlock()
	if throttled {
		return nil, nil
	}
	return s.refresh(ctx, now, true, true)
}

// refresh starts a fetch unless one is running or a failed one is being
// backed off from, and with wait waits for it. It returns the keys in force
// afterwards: the new ones, or the last good ones when the fetch failed.
// Only without any keys is a failed fetch an error. Unless force (an
// unknown kid), a caller that found the keys missing or old but arrives
// after a fetch has just replaced them uses those instead of fetching again.
func (s *Set) refresh(ctx context.Context, now time.Time, wait, force bool) (*keySnapshot, error) {
	s.mu.Lock()
	if k := s.keys.Load(); !force && k != nil && now.Before(k.refreshAt) {
		s.mu.Unlock()
		return k, nil
	}
	if s.inflight == nil && !now.Before(s.retryAt) {
		s.inflight = make(chan struct{})
		s.lastAttempt = now
		// Detached from the caller: one impatient request must not fail the
		// fetch every other waiter depends on.
		go s.fetchAndStore(s.inflight)
	}
	done, lastErr := s.inflight, s.lastErr
	s.mu.Unlock()
	if done != nil && wait {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("fetching keys from %s: %w", s.cfg.URL, ctx.Err())
		case <-done:
		}
		s.mu.Lock()
		lastErr = s.lastErr
		s.mu.Unlock()
	}
	if k := s.keys.Load(); k != nil {
		return k, nil
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("fetching keys from %s: not fetched yet", s.cfg.URL)
	}
	return nil, lastErr
}

// fetchAndStore runs one fetch and publishes its outcome: new keys, or the
// error and when to try again.
func (s *Set) fetchAndStore(done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	list, header, err := fetch(ctx, s.cfg.Client, s.cfg.URL)
	now := s.cfg.Now()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight = nil
	old := s.keys.Load()
	if err != nil {
		s.failures++
		backoff := min(s.cfg.UnknownKIDInterval<<min(s.failures-1, 20), s.cfg.RefreshMax)
		s.retryAt, s.lastErr = now.Add(backoff), err
		held := 0
		if old != nil {
			held = len(old.list)
		}
		s.log.WarnContext(ctx, "JWKS refresh failed; the last good keys stay in use",
			"error", err, "keys_kept", held, "failures", s.failures, "retry_in", backoff)
		return
	}
	next := newSnapshot(list, now, lifetime(header, s.cfg.RefreshMin, s.cfg.RefreshMax))
	if old == nil {
		next.generation = 1
	} else {
		next.generation = old.generation
		if dropped := old.missingFrom(next); len(dropped) > 0 {
			next.generation++
			s.log.InfoContext(ctx, "JWKS refresh dropped keys the provider no longer publishes; tokens they signed are refused",
				"dropped_kids", dropped)
		}
	}
	s.keys.Store(next)
	s.failures, s.retryAt, s.lastErr = 0, time.Time{}, nil
}
