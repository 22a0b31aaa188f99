package pdp_test

import (
	"context"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

// benchService is the decision core with the default policies, a test IdP
// and the given audit sink (nil: none, so the benchmarks measure the
// decision itself).
func benchService(tb testing.TB, audit pdp.AuditSink) (*pdp.Service, *pdptest.Issuer) {
	tb.Helper()
	idp := pdptest.NewIssuer(tb)
	v, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{idp.Config()}})
	if err != nil {
		tb.Fatal(err)
	}
	e := policy.NewEngine(policy.EngineConfig{})
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.Load(context.Background(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}); err != nil {
		tb.Fatal(err)
	}
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: e, Verifier: v, Transactions: pdptest.NewTransactions(), Audit: audit})
	if err != nil {
		tb.Fatal(err)
	}
	return svc, idp
}

// BenchmarkDecide measures one native decision on the claims path and on
// the token path (RS256 and ES256, verified-token cache warm).
func BenchmarkDecide(b *testing.B) {
	svc, idp := benchService(b, nil)
	now := time.Now().Unix()
	claims := map[string]any{"iss": idp.URL(), "sub": "auth0|alice", "amr": []any{"pwd", "mfa"}, "auth_time": now - 60,
		"aud": pdptest.DefaultAudience, "exp": now + 3600, "iat": now}
	client := clientauth.Client{ID: "bench", AssertClaims: true}
	ctx := context.Background()
	run := func(b *testing.B, mk func() *pdp.Request) {
		b.ReportAllocs()
		for b.Loop() {
			d, err := svc.Decide(ctx, client, mk())
			if err != nil || d.Outcome != policy.Allow {
				b.Fatalf("decision %v %v", d, err)
			}
		}
	}
	b.Run("claims", func(b *testing.B) {
		run(b, func() *pdp.Request {
			return &pdp.Request{Claims: claims, Action: "billing.view", Context: map[string]any{"channel": "web"}}
		})
	})
	// Every decision distinct in what the policy reads: the cache misses.
	b.Run("claims-distinct", func(b *testing.B) {
		i := int64(0)
		run(b, func() *pdp.Request {
			i++
			c := maps.Clone(claims)
			c["auth_time"] = now - 60 - i%600
			return &pdp.Request{Claims: c, Action: "billing.view", Context: map[string]any{"channel": "web"}}
		})
	})
	// A new, unknown action name every time, as a broken or hostile client
	// sends: the answer is a deny, and the per-action caches stay bounded.
	b.Run("unknown-action-each-time", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			d, err := svc.Decide(ctx, client, &pdp.Request{Claims: claims, Action: "unknown." + strconv.Itoa(i)})
			if err != nil || d.Outcome != policy.Deny {
				b.Fatalf("decision %v %v", d, err)
			}
		}
	})
	rs := idp.Mint(b, claims)
	b.Run("token-rs256", func(b *testing.B) {
		run(b, func() *pdp.Request { return &pdp.Request{Token: rs, Action: "billing.view"} })
	})
	es := idp.Mint(b, claims, pdptest.WithES256())
	b.Run("token-es256", func(b *testing.B) {
		run(b, func() *pdp.Request { return &pdp.Request{Token: es, Action: "billing.view"} })
	})
}
