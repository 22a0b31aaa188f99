package trust_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

// TestVerifyRefusesAKeyRemovedFromTheJWKS runs on the real clock against an
// issuer whose JWKS says max-age=1: after the provider swaps key A for key
// B, a token signed by A — the cached one and a fresh one — is refused once
// the scheduled refresh has run, although no token ever named an unknown
// kid. It polls rather than sleeping for a fixed time.
func TestVerifyRefusesAKeyRemovedFromTheJWKS(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	idp.SetJWKSHeader("Cache-Control", "public, max-age=1")
	ic := idp.Config()
	ic.JWKSRefreshMin = 10 * time.Millisecond
	v, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{ic}})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	ctx := context.Background()
	claims := func(sub string) map[string]any {
		now := time.Now()
		return map[string]any{"sub": sub, "aud": pdptest.DefaultAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	const keyA = "rsa-1"
	signedByA := idp.Mint(t, claims("alice"), pdptest.WithSigningKey(keyA))
	if _, err := v.Verify(ctx, signedByA); err != nil {
		t.Fatalf("Verify with key A in the JWKS: %v", err)
	}

	keyB := idp.RotateKey()
	if !idp.Unpublish(keyA) {
		t.Fatalf("key %q was not published", keyA)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := v.Verify(ctx, signedByA)
		if err != nil {
			requireCode(t, err, trust.TokenBadSignature)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a token signed by the removed key %q is still accepted after %d JWKS fetches", keyA, idp.JWKSRequests())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err = v.Verify(ctx, idp.Mint(t, claims("mallory"), pdptest.WithSigningKey(keyA)))
	requireCode(t, err, trust.TokenBadSignature)
	tok, err := v.Verify(ctx, idp.Mint(t, claims("bob")))
	if err != nil {
		t.Fatalf("Verify with the new key %q: %v", keyB, err)
	}
	if tok.Subject != "bob" {
		t.Fatalf("subject = %q, want bob", tok.Subject)
	}
}

// TestVerifyJWKSSchedule checks the refresh schedule on the fake clock:
// without a max-age the set lives JWKSRefreshMax, a cached token is refused
// once a refresh has dropped its key, and a failed refresh keeps the keys.
func TestVerifyJWKSSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("cached token refused once its key is dropped", func(t *testing.T) {
		t.Parallel()
		idp := pdptest.NewIssuer(t)
		f := newVerifierFixture(t, idp, nil)
		raw := idp.Mint(t, f.claims(nil))
		first, err := f.v.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		idp.RotateKey()
		idp.Unpublish("rsa-1")
		f.clock.Advance(time.Minute)
		if again, err := f.v.Verify(ctx, raw); err != nil || again != first {
			t.Fatalf("within the key set's lifetime: Verify = %v, %v; want the cached token", again, err)
		}
		if n := f.transport.Count("/jwks"); n != 1 {
			t.Fatalf("JWKS fetched %d times within its lifetime, want 1", n)
		}
		f.clock.Advance(trust.DefaultJWKSRefreshMax) // the set expired: the next token waits for the refresh
		_, err = f.v.Verify(ctx, raw)
		requireCode(t, err, trust.TokenBadSignature)
		if n := f.transport.Count("/jwks"); n != 2 {
			t.Fatalf("JWKS fetched %d times, want 2 (one scheduled refresh)", n)
		}
	})

	t.Run("a key added by a refresh leaves the cache alone", func(t *testing.T) {
		t.Parallel()
		idp := pdptest.NewIssuer(t)
		f := newVerifierFixture(t, idp, nil)
		raw := idp.Mint(t, f.claims(nil))
		first, err := f.v.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		idp.RotateKey() // rsa-1 stays published
		f.clock.Advance(trust.DefaultJWKSRefreshMax)
		if again, err := f.v.Verify(ctx, raw); err != nil || again != first {
			t.Fatalf("after a refresh that only added a key: Verify = %v, %v; want the cached token", again, err)
		}
		if n := f.transport.Count("/jwks"); n != 2 {
			t.Fatalf("JWKS fetched %d times, want 2", n)
		}
	})

	t.Run("a failed refresh keeps the last good keys", func(t *testing.T) {
		t.Parallel()
		idp := pdptest.NewIssuer(t)
		f := newVerifierFixture(t, idp, nil)
		if _, err := f.v.Verify(ctx, idp.Mint(t, f.claims(nil))); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		f.transport.fail.Store(true)
		f.clock.Advance(trust.DefaultJWKSRefreshMax)
		for _, sub := range []string{"bob", "carol"} {
			tok, err := f.v.Verify(ctx, idp.Mint(t, f.claims(map[string]any{"sub": sub})))
			if err != nil {
				t.Fatalf("Verify while the JWKS cannot be fetched: %v", err)
			}
			if tok.Subject != sub {
				t.Fatalf("subject = %q, want %q", tok.Subject, sub)
			}
		}
		if n := f.transport.Count("/jwks"); n != 2 {
			t.Fatalf("JWKS fetched %d times, want 2: one failed refresh, then backoff", n)
		}

		// The provider is back without key A: the retry after the backoff
		// drops it, at once.
		f.transport.fail.Store(false)
		idp.RotateKey()
		idp.Unpublish("rsa-1")
		f.clock.Advance(time.Minute)
		signedByA := idp.Mint(t, f.claims(map[string]any{"sub": "dave"}), pdptest.WithSigningKey("rsa-1"))
		pollUntil(t, func() bool {
			_, err := f.v.Verify(ctx, signedByA)
			return err != nil
		}, "a token signed by the dropped key is still accepted")
		_, err := f.v.Verify(ctx, signedByA)
		requireCode(t, err, trust.TokenBadSignature)
	})
}

// pollUntil calls cond until it holds, failing the test after a generous
// deadline: for background work the test cannot wait for otherwise.
func pollUntil(t testing.TB, cond func() bool, failure string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(failure)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestVerifierConfigJWKSRefreshBounds(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	tests := []struct {
		name             string
		global           [2]time.Duration // min, max
		issuer           [2]time.Duration
		wantMin, wantMax time.Duration
		wantErr          bool
	}{
		{name: "defaults", wantMin: 30 * time.Second, wantMax: 5 * time.Minute},
		{name: "global bounds", global: [2]time.Duration{time.Minute, time.Hour}, wantMin: time.Minute, wantMax: time.Hour},
		{name: "issuer overrides global", global: [2]time.Duration{time.Minute, time.Hour}, issuer: [2]time.Duration{5 * time.Second, 2 * time.Minute},
			wantMin: 5 * time.Second, wantMax: 2 * time.Minute},
		{name: "a small maximum lowers the default minimum", issuer: [2]time.Duration{0, 10 * time.Second}, wantMin: 10 * time.Second, wantMax: 10 * time.Second},
		{name: "minimum above maximum", issuer: [2]time.Duration{time.Hour, time.Minute}, wantErr: true},
		{name: "negative issuer bound", issuer: [2]time.Duration{-time.Second, 0}, wantErr: true},
		{name: "negative global bound", global: [2]time.Duration{0, -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ic := idp.Config()
			ic.JWKSRefreshMin, ic.JWKSRefreshMax = tt.issuer[0], tt.issuer[1]
			v, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{ic},
				JWKSRefreshMin: tt.global[0], JWKSRefreshMax: tt.global[1], HTTPClient: http.DefaultClient})
			if tt.wantErr {
				if err == nil {
					t.Fatal("NewVerifier accepted the bounds")
				}
				return
			}
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			got, _ := v.Issuer(ic.Issuer)
			if got.JWKSRefreshMin != tt.wantMin || got.JWKSRefreshMax != tt.wantMax {
				t.Fatalf("bounds = [%s, %s], want [%s, %s]", got.JWKSRefreshMin, got.JWKSRefreshMax, tt.wantMin, tt.wantMax)
			}
		})
	}
}
