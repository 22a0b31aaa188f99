package trust_test

import (
	"errors"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

// fakeClock is an injectable clock that only moves when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1763770000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingTransport counts requests per URL path and can simulate a network
// failure, so tests see exactly what the verifier asks of the IdP.
type countingTransport struct {
	mu     sync.Mutex
	counts map[string]int
	fail   atomic.Bool
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[req.URL.Path]++
	c.mu.Unlock()
	if c.fail.Load() {
		return nil, errors.New("countingTransport: simulated network failure")
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (c *countingTransport) Count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[path]
}

const discoveryPath = "/.well-known/openid-configuration"

type verifierFixture struct {
	idp       *pdptest.Issuer
	clock     *fakeClock
	transport *countingTransport
	v         *trust.Verifier
}

// newVerifierFixture builds a Verifier for idp with a fake clock and a
// counting transport; mod may adjust the config before NewVerifier.
func newVerifierFixture(t testing.TB, idp *pdptest.Issuer, mod func(*trust.VerifierConfig)) *verifierFixture {
	t.Helper()
	f := &verifierFixture{idp: idp, clock: newFakeClock(), transport: &countingTransport{}}
	cfg := trust.VerifierConfig{
		Issuers:    []trust.IssuerConfig{idp.Config()},
		Now:        f.clock.Now,
		HTTPClient: &http.Client{Transport: f.transport, Timeout: 5 * time.Second},
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := trust.NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	f.v = v
	return f
}

// claims returns a valid claim set at the fixture's clock, with extra
// merged in; an extra value of nil makes Mint leave the claim out.
func (f *verifierFixture) claims(extra map[string]any) map[string]any {
	now := f.clock.Now()
	c := map[string]any{
		"sub": "alice",
		"aud": pdptest.DefaultAudience,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
	maps.Copy(c, extra)
	return c
}

// requireCode fails unless err is a *pdp.TokenError with code; want "" means
// no error.
func requireCode(t testing.TB, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	t.Logf("error: %v", err)
	var te *trust.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("error = %v (%T), want *pdp.TokenError with code %q", err, err, want)
	}
	if te.Code != want {
		t.Fatalf("code = %q (%v), want %q", te.Code, err, want)
	}
	if te.Detail == "" {
		t.Fatalf("TokenError %q has no detail", te.Code)
	}
}
