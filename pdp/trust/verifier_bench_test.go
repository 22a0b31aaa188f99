package trust_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

// BenchmarkVerify measures the hot path (a token seen before, answered from
// the cache) against a full verification (parse, RSA or ECDSA signature,
// claims), for both key types.
func BenchmarkVerify(b *testing.B) {
	idp := pdptest.NewIssuer(b)
	algs := []struct {
		name string
		opts []pdptest.MintOption
	}{
		{name: "RS256"},
		{name: "ES256", opts: []pdptest.MintOption{pdptest.WithES256()}},
	}
	modes := []struct {
		name      string
		cacheSize int
	}{
		{name: "cached", cacheSize: 0},
		{name: "uncached", cacheSize: -1},
	}
	for _, mode := range modes {
		for _, alg := range algs {
			b.Run(mode.name+"/"+alg.name, func(b *testing.B) {
				f := newVerifierFixture(b, idp, func(c *trust.VerifierConfig) { c.CacheSize = mode.cacheSize })
				raw := idp.Mint(b, f.claims(map[string]any{
					"amr": []string{"pwd", "mfa"}, "acr": "urn:mfa", "auth_time": f.clock.Now().Unix(),
					"scope": "openid profile billing:read", "azp": "web-app",
				}), alg.opts...)
				ctx := context.Background()
				if _, err := f.v.Verify(ctx, raw); err != nil {
					b.Fatalf("Verify: %v", err)
				}
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := f.v.Verify(ctx, raw); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

// FuzzVerify feeds arbitrary strings, seeded with valid and subtly broken
// tokens, to Verify: it must return an error or a token, never panic, and
// never accept anything it was not given by the issuer.
func FuzzVerify(f *testing.F) {
	idp := pdptest.NewIssuer(f)
	fx := newVerifierFixture(f, idp, nil)
	good := idp.Mint(f, fx.claims(nil))
	goodEC := idp.Mint(f, fx.claims(nil), pdptest.WithES256())
	// signedPart is header.payload: the only part a valid token may share
	// with ours is what the issuer signed.
	signedPart := func(raw string) string { return raw[:strings.LastIndexByte(raw, '.')+1] }
	f.Add(good)
	f.Add(goodEC)
	f.Add(idp.Mint(f, fx.claims(nil), pdptest.WithAlgNone()))
	f.Add(idp.Mint(f, fx.claims(nil), pdptest.WithHS256PublicKey()))
	f.Add(good[:len(good)/2])
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("")
	f.Add("..")
	f.Add("eyJ.eyJ.eyJ")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := fx.v.Verify(context.Background(), raw)
		if err == nil {
			if !strings.HasPrefix(raw, signedPart(good)) && !strings.HasPrefix(raw, signedPart(goodEC)) {
				t.Fatalf("accepted a token the issuer never signed: %q", raw)
			}
			if tok == nil {
				t.Fatal("nil token without error")
			}
		}
	})
}
