package trust_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

func TestVerifyIDToken(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	other := pdptest.NewIssuer(t)
	const client = "web-app"
	now := newFakeClock().Now()

	tests := []struct {
		name     string
		mintBy   *pdptest.Issuer
		claims   map[string]any // merged into valid ID token claims for client
		opts     []pdptest.MintOption
		issuer   string // default idp.URL()
		clientID string // default client
		want     string
	}{
		{name: "single audience"},
		{name: "single audience with matching azp", claims: map[string]any{"azp": client}},
		{name: "several audiences with azp", claims: map[string]any{"aud": []string{client, "api"}, "azp": client}},
		{name: "several audiences without azp", claims: map[string]any{"aud": []string{client, "api"}}, want: trust.TokenWrongAudience},
		{name: "azp names another client", claims: map[string]any{"aud": []string{client, "api"}, "azp": "api"}, want: trust.TokenWrongAudience},
		{name: "azp names another client with one audience", claims: map[string]any{"azp": "intruder"}, want: trust.TokenWrongAudience},
		{name: "audience of another client", claims: map[string]any{"aud": "other-app"}, want: trust.TokenWrongAudience},
		{name: "API audience is not the client", claims: map[string]any{"aud": pdptest.DefaultAudience}, want: trust.TokenWrongAudience},
		{name: "issued by another configured issuer", mintBy: other, want: trust.TokenWrongIssuer},
		{name: "expected issuer not configured", issuer: "https://nobody.example", want: trust.TokenUnknownIssuer},
		{name: "expired", claims: map[string]any{"exp": now.Add(-time.Hour).Unix()}, want: trust.TokenExpired},
		{name: "missing exp", claims: map[string]any{"exp": nil}, want: trust.TokenMissingExp},
		{name: "alg none", opts: []pdptest.MintOption{pdptest.WithAlgNone()}, want: trust.TokenUnsupportedAlg},
		{name: "signed by a key outside the JWKS", opts: []pdptest.MintOption{pdptest.WithUnpublishedKey()}, want: trust.TokenBadSignature},
		// The decision API's rules, and the ID token's own: the step-up
		// verify endpoint must be at least as strict.
		{name: "untyped", opts: []pdptest.MintOption{pdptest.WithType("")}},
		{name: "typ application/jwt in any case", opts: []pdptest.MintOption{pdptest.WithType("Application/JWT")}},
		{name: "typ jwt in lower case", opts: []pdptest.MintOption{pdptest.WithType("jwt")}},
		{name: "an RFC 9068 access token", opts: []pdptest.MintOption{pdptest.WithType("at+jwt")}, want: trust.TokenMalformed},
		{name: "an RFC 9068 access token as a media type", opts: []pdptest.MintOption{pdptest.WithType("application/at+JWT")}, want: trust.TokenMalformed},
		{name: "a logout token", opts: []pdptest.MintOption{pdptest.WithType("logout+jwt")}, want: trust.TokenMalformed},
		{name: "another type", opts: []pdptest.MintOption{pdptest.WithType("dpop+jwt")}, want: trust.TokenMalformed},
		{name: "auth_time a year ahead", claims: map[string]any{"auth_time": now.AddDate(1, 0, 0).Unix()}, want: trust.TokenIssuedInFuture},
		{name: "auth_time just beyond the leeway", claims: map[string]any{"auth_time": now.Add(trust.DefaultLeeway + time.Second).Unix()}, want: trust.TokenIssuedInFuture},
		{name: "auth_time within the leeway", claims: map[string]any{"auth_time": now.Add(trust.DefaultLeeway).Unix()}},
		{name: "auth_time not a number", claims: map[string]any{"auth_time": "tomorrow"}, want: trust.TokenMalformed},
		{name: "iat a year ahead", claims: map[string]any{"iat": now.AddDate(1, 0, 0).Unix()}, want: trust.TokenIssuedInFuture},
		{name: "nbf beyond the leeway", claims: map[string]any{"nbf": now.Add(time.Hour).Unix()}, want: trust.TokenNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newVerifierFixture(t, idp, func(c *trust.VerifierConfig) {
				c.Issuers = append(c.Issuers, other.Config())
			})
			mintBy := idp
			if tt.mintBy != nil {
				mintBy = tt.mintBy
			}
			claims := f.claims(map[string]any{"aud": client, "nonce": "n-0S6_WzA2Mj", "auth_time": now.Unix()})
			for k, v := range tt.claims {
				claims[k] = v
			}
			raw := mintBy.Mint(t, claims, tt.opts...)
			issuer, clientID := idp.URL(), client
			if tt.issuer != "" {
				issuer = tt.issuer
			}
			if tt.clientID != "" {
				clientID = tt.clientID
			}
			tok, err := f.v.VerifyIDToken(context.Background(), raw, issuer, clientID)
			requireCode(t, err, tt.want)
			if tt.want != "" {
				return
			}
			if tok.Claims["nonce"] != "n-0S6_WzA2Mj" || tok.Issuer.Issuer != idp.URL() {
				t.Fatalf("token = %+v", tok)
			}
			again, err := f.v.VerifyIDToken(context.Background(), raw, issuer, clientID)
			if err != nil || again == tok {
				t.Fatalf("second VerifyIDToken = %p, %v; want a fresh verification", again, err)
			}
		})
	}
}

func TestVerifyIDTokenNeedsClientID(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	f := newVerifierFixture(t, idp, nil)
	_, err := f.v.VerifyIDToken(context.Background(), idp.Mint(t, f.claims(nil)), idp.URL(), "")
	var te *trust.TokenError
	if err == nil || errors.As(err, &te) {
		t.Fatalf("VerifyIDToken without client id = %v, want a usage error", err)
	}
}
