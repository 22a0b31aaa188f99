package trust_test

import (
	"context"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

func TestVerifyCache(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	ctx := context.Background()

	t.Run("hit returns the verified token without touching the IdP", func(t *testing.T) {
		t.Parallel()
		f := newVerifierFixture(t, idp, nil)
		raw := idp.Mint(t, f.claims(nil))
		first, err := f.v.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		f.transport.fail.Store(true) // the IdP is gone; only the cache can answer
		for range 3 {
			again, err := f.v.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("cached Verify: %v", err)
			}
			if again != first {
				t.Fatal("a repeated token was verified again instead of answered from the cache")
			}
		}
		if n := f.transport.Count("/jwks"); n != 1 {
			t.Fatalf("JWKS fetched %d times, want 1", n)
		}
	})

	t.Run("hit is refused at exp and the token re-verified with leeway", func(t *testing.T) {
		t.Parallel()
		f := newVerifierFixture(t, idp, nil)
		raw := idp.Mint(t, f.claims(map[string]any{"exp": f.clock.Now().Add(time.Minute).Unix()}))
		first, err := f.v.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		f.clock.Advance(time.Minute + 10*time.Second) // past exp, inside the 30s leeway
		again, err := f.v.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("Verify inside leeway: %v", err)
		}
		if again == first {
			t.Fatal("the cache answered for a token past its exp")
		}
		f.clock.Advance(30 * time.Second) // past exp + leeway
		tok, err := f.v.Verify(ctx, raw)
		requireCode(t, err, trust.TokenExpired)
		if tok != nil {
			t.Fatal("expired token returned")
		}
	})

	t.Run("disabled cache verifies every time", func(t *testing.T) {
		t.Parallel()
		f := newVerifierFixture(t, idp, func(c *trust.VerifierConfig) { c.CacheSize = -1 })
		raw := idp.Mint(t, f.claims(nil))
		first, err := f.v.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		again, err := f.v.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if again == first {
			t.Fatal("the disabled cache answered")
		}
	})

	t.Run("bounded: least recently used entries are evicted", func(t *testing.T) {
		t.Parallel()
		f := newVerifierFixture(t, idp, func(c *trust.VerifierConfig) { c.CacheSize = 2 })
		raws := []string{
			idp.Mint(t, f.claims(map[string]any{"sub": "a"})),
			idp.Mint(t, f.claims(map[string]any{"sub": "b"})),
			idp.Mint(t, f.claims(map[string]any{"sub": "c"})),
		}
		toks := make([]*trust.Token, len(raws))
		for i, raw := range raws {
			tok, err := f.v.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("Verify %d: %v", i, err)
			}
			toks[i] = tok
		}
		for i, wantCached := range []bool{false, true} {
			// "a" was evicted by "c"; re-verifying "a" then evicts "b".
			raw := raws[i*2]
			tok, err := f.v.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got := tok == toks[i*2]; got != wantCached {
				t.Fatalf("token %q answered from cache = %v, want %v", tok.Subject, got, wantCached)
			}
		}
	})

	t.Run("rejections are not cached", func(t *testing.T) {
		t.Parallel()
		f := newVerifierFixture(t, idp, nil)
		raw := idp.Mint(t, f.claims(map[string]any{
			"nbf": f.clock.Now().Add(time.Hour).Unix(),
			"exp": f.clock.Now().Add(2 * time.Hour).Unix(),
		}))
		_, err := f.v.Verify(ctx, raw)
		requireCode(t, err, trust.TokenNotYetValid)
		f.clock.Advance(time.Hour)
		if _, err := f.v.Verify(ctx, raw); err != nil {
			t.Fatalf("Verify once valid: %v", err)
		}
	})
}

// TestVerifyCacheHitAllocations is not parallel: AllocsPerRun needs the
// process to itself.
func TestVerifyCacheHitAllocations(t *testing.T) {
	idp := pdptest.NewIssuer(t)
	f := newVerifierFixture(t, idp, nil)
	raw := idp.Mint(t, f.claims(nil))
	ctx := context.Background()
	if _, err := f.v.Verify(ctx, raw); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := f.v.Verify(ctx, raw); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Fatalf("cache hit allocates %.0f times, want at most 1", allocs)
	}
	t.Logf("cache hit: %.0f allocations", allocs)
}
