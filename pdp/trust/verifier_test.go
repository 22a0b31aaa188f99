package trust_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

func TestVerifyMintedTokens(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	now := newFakeClock().Now()

	tests := []struct {
		name   string
		claims map[string]any // merged into the fixture's valid claims
		opts   []pdptest.MintOption
		want   string // TokenError code; "" means valid
	}{
		{name: "RS256", want: ""},
		{name: "ES256", opts: []pdptest.MintOption{pdptest.WithES256()}},
		{name: "aud array containing an accepted audience", claims: map[string]any{"aud": []string{"other", pdptest.DefaultAudience}}},
		{name: "expired", claims: map[string]any{"exp": now.Add(-time.Hour).Unix()}, want: trust.TokenExpired},
		{name: "expired 10s ago within 30s leeway", claims: map[string]any{"exp": now.Add(-10 * time.Second).Unix()}},
		{name: "expired exactly leeway ago", claims: map[string]any{"exp": now.Add(-30 * time.Second).Unix()}, want: trust.TokenExpired},
		{name: "not yet valid", claims: map[string]any{"nbf": now.Add(time.Hour).Unix()}, want: trust.TokenNotYetValid},
		{name: "nbf within leeway", claims: map[string]any{"nbf": now.Add(20 * time.Second).Unix()}},
		{name: "issued in the future", claims: map[string]any{"iat": now.Add(time.Hour).Unix()}, want: trust.TokenIssuedInFuture},
		{name: "iat within leeway", claims: map[string]any{"iat": now.Add(20 * time.Second).Unix()}},
		{name: "fractional exp", claims: map[string]any{"exp": float64(now.Add(time.Hour).Unix()) + 0.5}},
		{name: "missing exp", claims: map[string]any{"exp": nil}, want: trust.TokenMissingExp},
		{name: "exp is a string", claims: map[string]any{"exp": "tomorrow"}, want: trust.TokenMalformed},
		{name: "exp beyond year 9999", claims: map[string]any{"exp": int64(1) << 62}, want: trust.TokenMalformed},
		{name: "iat beyond year 9999", claims: map[string]any{"iat": json.Number("1e300")}, want: trust.TokenMalformed},
		{name: "auth_time is a string", claims: map[string]any{"auth_time": "yesterday"}, want: trust.TokenMalformed},
		{name: "acr is a number", claims: map[string]any{"acr": 2}, want: trust.TokenMalformed},
		{name: "unknown issuer", claims: map[string]any{"iss": "https://evil.example/"}, want: trust.TokenUnknownIssuer},
		{name: "issuer differs by trailing slash", claims: map[string]any{"iss": idp.URL() + "/"}, want: trust.TokenUnknownIssuer},
		{name: "missing iss", claims: map[string]any{"iss": nil}, want: trust.TokenMalformed},
		{name: "missing sub", claims: map[string]any{"sub": nil}, want: trust.TokenMalformed},
		{name: "sub is a number", claims: map[string]any{"sub": 42}, want: trust.TokenMalformed},
		{name: "wrong audience", claims: map[string]any{"aud": "https://other.example"}, want: trust.TokenWrongAudience},
		{name: "missing audience", claims: map[string]any{"aud": nil}, want: trust.TokenWrongAudience},
		{name: "unknown kid even after JWKS refresh", opts: []pdptest.MintOption{pdptest.WithKID("no-such-key")}, want: trust.TokenBadSignature},
		{name: "key not in JWKS", opts: []pdptest.MintOption{pdptest.WithUnpublishedKey()}, want: trust.TokenBadSignature},
		{name: "ES256 header on the RSA kid", opts: []pdptest.MintOption{pdptest.WithES256(), pdptest.WithKID("rsa-1")}, want: trust.TokenBadSignature},
		{name: "alg none", opts: []pdptest.MintOption{pdptest.WithAlgNone()}, want: trust.TokenUnsupportedAlg},
		{name: "HS256 keyed with the RSA public key", opts: []pdptest.MintOption{pdptest.WithHS256PublicKey()}, want: trust.TokenUnsupportedAlg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newVerifierFixture(t, idp, nil)
			raw := idp.Mint(t, f.claims(tt.claims), tt.opts...)
			tok, err := f.v.Verify(context.Background(), raw)
			requireCode(t, err, tt.want)
			if tt.want != "" {
				if tok != nil {
					t.Fatalf("rejected token returned %+v", tok)
				}
				return
			}
			if tok.Subject != "alice" || tok.Issuer.Issuer != idp.URL() {
				t.Fatalf("token = %+v", tok)
			}
		})
	}
}

func TestVerifyClaimsKeepExactNumbers(t *testing.T) {
	t.Parallel()
	f := newVerifierFixture(t, pdptest.NewIssuer(t), nil)
	exp := f.clock.Now().Add(time.Hour).Unix()
	raw := f.idp.Mint(t, f.claims(map[string]any{
		"exp":       exp,
		"auth_time": 1763769500,
		"big":       json.Number("9007199254740993"), // 2^53+1: a float64 would round it
		"amr":       []string{"pwd", "mfa"},
		"acr":       "urn:mfa",
	}))
	tok, err := f.v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := map[string]any{
		"iss":       f.idp.URL(),
		"sub":       "alice",
		"aud":       pdptest.DefaultAudience,
		"iat":       json.Number("1763770000"),
		"exp":       json.Number(strconv.FormatInt(exp, 10)),
		"auth_time": json.Number("1763769500"),
		"big":       json.Number("9007199254740993"),
		"amr":       []any{"pwd", "mfa"},
		"acr":       "urn:mfa",
	}
	if !reflect.DeepEqual(tok.Claims, want) {
		t.Fatalf("claims =\n%#v\nwant\n%#v", tok.Claims, want)
	}
	if !tok.Expiry.Equal(time.Unix(exp, 0)) {
		t.Fatalf("Expiry = %v, want %v", tok.Expiry, time.Unix(exp, 0))
	}
}

func TestVerifyRejectsHostileInput(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	f := newVerifierFixture(t, idp, nil)
	good := idp.Mint(t, f.claims(nil))
	header, rest, _ := strings.Cut(good, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	payloadJSON, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		raw  string
		want string
	}{
		{name: "empty", raw: "", want: trust.TokenMalformed},
		{name: "garbage", raw: "this is not a token", want: trust.TokenMalformed},
		{name: "binary garbage", raw: "\x00\xff.\xfe\x01.\x80", want: trust.TokenMalformed},
		{name: "three empty parts", raw: "..", want: trust.TokenMalformed},
		{name: "truncated in the payload", raw: good[:len(header)+1+len(payload)/2], want: trust.TokenMalformed},
		{name: "truncated signature", raw: good[:len(good)-10], want: trust.TokenBadSignature},
		{name: "signature removed", raw: header + "." + payload + ".", want: trust.TokenMalformed},
		{name: "tampered payload", raw: header + "." + b64([]byte(strings.Replace(string(payloadJSON), "alice", "admin", 1))) + "." + sig, want: trust.TokenBadSignature},
		{name: "JWE", raw: "a.b.c.d.e", want: trust.TokenMalformed},
		{name: "header not base64", raw: "!!!." + payload + "." + sig, want: trust.TokenMalformed},
		{name: "header not JSON", raw: b64([]byte("nope")) + "." + payload + "." + sig, want: trust.TokenMalformed},
		{name: "header kid not a string", raw: b64([]byte(`{"alg":"RS256","kid":7}`)) + "." + payload + "." + sig, want: trust.TokenMalformed},
		{name: "no alg", raw: b64([]byte(`{"typ":"JWT"}`)) + "." + payload + "." + sig, want: trust.TokenUnsupportedAlg},
		{name: "alg NONE upper case", raw: b64([]byte(`{"alg":"NONE"}`)) + "." + payload + ".", want: trust.TokenUnsupportedAlg},
		{name: "alg HS512", raw: b64([]byte(`{"alg":"HS512"}`)) + "." + payload + "." + sig, want: trust.TokenUnsupportedAlg},
		{name: "alg ES256K", raw: b64([]byte(`{"alg":"ES256K"}`)) + "." + payload + "." + sig, want: trust.TokenUnsupportedAlg},
		{name: "logout token type", raw: b64([]byte(`{"alg":"RS256","typ":"logout+jwt"}`)) + "." + payload + "." + sig, want: trust.TokenMalformed},
		{name: "payload is an array", raw: header + "." + b64([]byte(`["x"]`)) + "." + sig, want: trust.TokenMalformed},
		{name: "payload is null", raw: header + "." + b64([]byte(`null`)) + "." + sig, want: trust.TokenMalformed},
		{name: "payload with trailing data", raw: header + "." + b64(append(payloadJSON, []byte(`{}`)...)) + "." + sig, want: trust.TokenMalformed},
		{name: "1 MB token", raw: strings.Repeat("a", 1<<20), want: trust.TokenTooLarge},
		{name: "just over the limit", raw: header + "." + strings.Repeat("A", trust.DefaultMaxTokenBytes) + "." + sig, want: trust.TokenTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := f.v.Verify(context.Background(), tt.raw)
			requireCode(t, err, tt.want)
			if tok != nil {
				t.Fatalf("rejected token returned %+v", tok)
			}
		})
	}
}

func TestVerifyRotatedKey(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	f := newVerifierFixture(t, idp, nil)
	ctx := context.Background()
	if _, err := f.v.Verify(ctx, idp.Mint(t, f.claims(nil))); err != nil {
		t.Fatalf("Verify before rotation: %v", err)
	}
	if got := idp.JWKSRequests(); got != 1 {
		t.Fatalf("JWKS requests = %d, want 1", got)
	}

	kid := idp.RotateKey()
	rotated := idp.Mint(t, f.claims(map[string]any{"sub": "bob"}))
	// Within the JWKS refresh floor the unknown kid is checked against the
	// keys already known, without asking the IdP again.
	_, err := f.v.Verify(ctx, rotated)
	requireCode(t, err, trust.TokenBadSignature)
	if !strings.Contains(err.Error(), kid) {
		t.Fatalf("error %q does not name kid %q", err, kid)
	}
	if got := idp.JWKSRequests(); got != 1 {
		t.Fatalf("JWKS requests within the refresh floor = %d, want 1", got)
	}

	f.clock.Advance(6 * time.Second)
	tok, err := f.v.Verify(ctx, rotated)
	if err != nil {
		t.Fatalf("Verify after rotation: %v", err)
	}
	if tok.Subject != "bob" {
		t.Fatalf("subject = %q", tok.Subject)
	}
	if got := idp.JWKSRequests(); got != 2 {
		t.Fatalf("JWKS requests after rotation = %d, want 2", got)
	}
}

func TestVerifyUnknownKIDsDoNotFloodTheIdP(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	f := newVerifierFixture(t, idp, nil)
	ctx := context.Background()
	for i := range 20 {
		raw := idp.Mint(t, f.claims(nil), pdptest.WithKID("forged-"+strconv.Itoa(i)))
		_, err := f.v.Verify(ctx, raw)
		requireCode(t, err, trust.TokenBadSignature)
	}
	if got := idp.JWKSRequests(); got != 1 {
		t.Fatalf("JWKS requests for 20 forged kids = %d, want 1", got)
	}
}

func TestTokenErrorWrapsSentinels(t *testing.T) {
	t.Parallel()
	idp := pdptest.NewIssuer(t)
	f := newVerifierFixture(t, idp, nil)
	_, err := f.v.Verify(context.Background(), idp.Mint(t, f.claims(map[string]any{"iss": "https://nobody.example"})))
	if !errors.Is(err, trust.ErrUnknownIssuer) {
		t.Fatalf("errors.Is(%v, ErrUnknownIssuer) = false", err)
	}
	if want := `invalid token: unknown_issuer: issuer "https://nobody.example" is not configured`; err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
}
