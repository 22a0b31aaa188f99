package trust_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

func TestVerifyDiscoveryFailureThenRecovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		down func(f *verifierFixture, down bool)
	}{
		{name: "network failure", down: func(f *verifierFixture, down bool) { f.transport.fail.Store(down) }},
		{name: "IdP answers 503", down: func(f *verifierFixture, down bool) { f.idp.SetDown(down) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newVerifierFixture(t, pdptest.NewIssuer(t), nil)
			ctx := context.Background()
			raw := f.idp.Mint(t, f.claims(map[string]any{"exp": f.clock.Now().Add(time.Hour).Unix()}))

			tt.down(f, true)
			_, err := f.v.Verify(ctx, raw)
			requireCode(t, err, trust.TokenDiscoveryFailed)
			if !errors.Is(err, trust.ErrDiscovery) {
				t.Fatalf("errors.Is(%v, ErrDiscovery) = false", err)
			}
			// The failure is remembered: no new attempt within the retry
			// interval, even once the IdP is back.
			tt.down(f, false)
			_, err = f.v.Verify(ctx, raw)
			requireCode(t, err, trust.TokenDiscoveryFailed)
			if n := f.transport.Count(discoveryPath); n != 1 {
				t.Fatalf("discovery attempts = %d, want 1", n)
			}

			f.clock.Advance(6 * time.Second)
			tok, err := f.v.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("Verify after recovery: %v", err)
			}
			if tok.Subject != "alice" {
				t.Fatalf("subject = %q", tok.Subject)
			}
			if n := f.transport.Count(discoveryPath); n != 2 {
				t.Fatalf("discovery attempts = %d, want 2", n)
			}
		})
	}
}

func TestVerifyConcurrentFirstCallsDiscoverOnce(t *testing.T) {
	t.Parallel()
	f := newVerifierFixture(t, pdptest.NewIssuer(t), nil)
	raw := f.idp.Mint(t, f.claims(nil))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			if _, err := f.v.Verify(context.Background(), raw); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Verify: %v", err)
	}
	if n := f.transport.Count(discoveryPath); n != 1 {
		t.Fatalf("discovery requests = %d, want 1", n)
	}
	if n := f.transport.Count("/jwks"); n != 1 {
		t.Fatalf("JWKS requests = %d, want 1", n)
	}
}

func TestVerifyJWKSUnreachable(t *testing.T) {
	t.Parallel()
	f := newVerifierFixture(t, pdptest.NewIssuer(t), nil)
	ctx := context.Background()
	if _, err := f.v.Endpoints(ctx, f.idp.URL()); err != nil {
		t.Fatalf("Endpoints: %v", err)
	}
	f.transport.fail.Store(true)
	_, err := f.v.Verify(ctx, f.idp.Mint(t, f.claims(nil)))
	requireCode(t, err, trust.TokenDiscoveryFailed)
}

func TestVerifyCancelledWhileDiscovering(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		http.Error(w, "too late", http.StatusServiceUnavailable)
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	v, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{{Issuer: slow.URL, Audiences: []string{"api"}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.Endpoints(ctx, slow.URL)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, trust.ErrDiscovery) {
		t.Fatalf("Endpoints with a cancelled context = %v, want context.Canceled and ErrDiscovery", err)
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	f := newVerifierFixture(t, idp, nil)
	ctx := context.Background()

	got, err := f.v.Endpoints(ctx, idp.URL())
	if err != nil {
		t.Fatalf("Endpoints: %v", err)
	}
	want := trust.Endpoints{
		Authorization: idp.URL() + "/authorize",
		Token:         idp.URL() + "/token",
		Backchannel:   idp.URL() + "/bc-authorize",
		JWKS:          idp.URL() + "/jwks",
		EndSession:    idp.URL() + "/logout",
	}
	if got != want {
		t.Fatalf("Endpoints = %+v, want %+v", got, want)
	}
	if _, err := f.v.Endpoints(ctx, "https://unknown.example"); !errors.Is(err, trust.ErrUnknownIssuer) {
		t.Fatalf("Endpoints(unknown) = %v, want ErrUnknownIssuer", err)
	}
}

func TestDiscoveryRejectsBadDocuments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string // %[1]s is the server's URL
	}{
		{name: "issuer mismatch", doc: `{"issuer": "https://impostor.example", "jwks_uri": "%[1]s/jwks"}`},
		{name: "no jwks_uri", doc: `{"issuer": "%[1]s"}`},
		{name: "plain http jwks_uri on a remote host", doc: `{"issuer": "%[1]s", "jwks_uri": "http://keys.example/jwks"}`},
		{name: "not JSON", doc: `<html>%[1]s</html>`},
		{name: "huge", doc: `{"issuer": "%[1]s", "jwks_uri": "%[1]s/jwks", "pad": "` + strings.Repeat("x", 2<<20) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var base string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprintf(w, tt.doc, base)
			}))
			t.Cleanup(srv.Close)
			base = srv.URL
			v, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{{Issuer: base, Audiences: []string{"api"}}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Endpoints(context.Background(), base); !errors.Is(err, trust.ErrDiscovery) {
				t.Fatalf("Endpoints = %v, want ErrDiscovery", err)
			}
		})
	}
}
