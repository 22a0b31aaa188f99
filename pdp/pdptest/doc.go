// Package pdptest holds test helpers for package pdp and the packages built
// on it. It is for tests only: nothing in a production binary imports it.
//
// Issuer is a fake OpenID provider on an httptest server. It serves a
// discovery document and a JWKS (an RSA key "rsa-1" and an EC P-256 key
// "ec-1"), mints tokens signed with those keys — or deliberately broken ones
// (alg none, HS256 keyed with the RSA public key, an unpublished key, a
// wrong kid) — rotates keys, and counts JWKS downloads, so that tests can
// drive trust.Verifier through every path without a real IdP:
//
//	idp := pdptest.NewIssuer(t)
//	v, _ := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{idp.Config("api")}})
//	raw := idp.Mint(t, map[string]any{"sub": "alice", "aud": "api", "exp": time.Now().Add(time.Hour).Unix()})
//	tok, err := v.Verify(ctx, raw)
//
// Tests that add more endpoints (a token endpoint for CIBA, say) register
// them with Issuer.Handle; SetDown makes the whole IdP unreachable.
package pdptest
