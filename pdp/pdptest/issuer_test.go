package pdptest_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("decoding %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

func decodeSegment(t *testing.T, raw string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	return m
}

func jwksKids(t *testing.T, iss *pdptest.Issuer) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	getJSON(t, iss.URL()+"/jwks", &set)
	var kids []string
	for _, k := range set.Keys {
		if k.D != "" {
			t.Fatalf("JWKS publishes the private part of %q", k.Kid)
		}
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestIssuerDiscoveryAndJWKS(t *testing.T) {
	t.Parallel()
	iss := pdptest.NewIssuer(t)
	var doc map[string]any
	getJSON(t, iss.URL()+"/.well-known/openid-configuration", &doc)
	for key, want := range map[string]string{
		"issuer":                              iss.URL(),
		"authorization_endpoint":              iss.URL() + "/authorize",
		"token_endpoint":                      iss.URL() + "/token",
		"backchannel_authentication_endpoint": iss.URL() + "/bc-authorize",
		"jwks_uri":                            iss.URL() + "/jwks",
		"end_session_endpoint":                iss.URL() + "/logout",
	} {
		if doc[key] != want {
			t.Errorf("%s = %v, want %q", key, doc[key], want)
		}
	}
	if got := jwksKids(t, iss); !slices.Equal(got, []string{"rsa-1", "ec-1"}) {
		t.Fatalf("JWKS kids = %v", got)
	}
	if iss.JWKSRequests() != 1 || iss.DiscoveryRequests() != 1 {
		t.Fatalf("counters: jwks %d, discovery %d; want 1 and 1", iss.JWKSRequests(), iss.DiscoveryRequests())
	}
}

func TestIssuerMint(t *testing.T) {
	t.Parallel()
	iss := pdptest.NewIssuer(t)
	tests := []struct {
		name           string
		opts           []pdptest.MintOption
		alg, kidPrefix string
		signed         bool
	}{
		{name: "default RS256", alg: "RS256", kidPrefix: "rsa-1", signed: true},
		{name: "ES256", opts: []pdptest.MintOption{pdptest.WithES256()}, alg: "ES256", kidPrefix: "ec-1", signed: true},
		{name: "kid override", opts: []pdptest.MintOption{pdptest.WithKID("nope")}, alg: "RS256", kidPrefix: "nope", signed: true},
		{name: "alg none", opts: []pdptest.MintOption{pdptest.WithAlgNone()}, alg: "none"},
		{name: "HS256 with the public key", opts: []pdptest.MintOption{pdptest.WithHS256PublicKey()}, alg: "HS256", kidPrefix: "rsa-1", signed: true},
		{name: "unpublished key", opts: []pdptest.MintOption{pdptest.WithUnpublishedKey()}, alg: "RS256", kidPrefix: "rotated-", signed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := iss.Mint(t, map[string]any{"sub": "alice", "n": 1}, tt.opts...)
			h := decodeSegment(t, raw, 0)
			if h["alg"] != tt.alg || !strings.HasPrefix(stringOf(h["kid"]), tt.kidPrefix) {
				t.Fatalf("header = %v, want alg %s kid %s…", h, tt.alg, tt.kidPrefix)
			}
			if signed := !strings.HasSuffix(raw, "."); signed != tt.signed {
				t.Fatalf("signed = %v, want %v", signed, tt.signed)
			}
			claims := decodeSegment(t, raw, 1)
			if claims["iss"] != iss.URL() || claims["sub"] != "alice" {
				t.Fatalf("claims = %v", claims)
			}
		})
	}
}

func stringOf(v any) string { s, _ := v.(string); return s }

func TestIssuerMintClaimOverrides(t *testing.T) {
	t.Parallel()
	iss := pdptest.NewIssuer(t)
	claims := decodeSegment(t, iss.Mint(t, map[string]any{"iss": "https://other.example", "aud": nil}), 1)
	if claims["iss"] != "https://other.example" {
		t.Fatalf("iss = %v, want the given one", claims["iss"])
	}
	if _, ok := claims["aud"]; ok {
		t.Fatal("a nil claim was minted")
	}
	claims = decodeSegment(t, iss.Mint(t, map[string]any{"iss": nil}), 1)
	if _, ok := claims["iss"]; ok {
		t.Fatal(`{"iss": nil} still minted an iss`)
	}
}

func TestIssuerRotateKey(t *testing.T) {
	t.Parallel()
	iss := pdptest.NewIssuer(t)
	if kid := iss.RotateKey(); kid != "rsa-2" {
		t.Fatalf("RotateKey = %q, want rsa-2", kid)
	}
	if got := jwksKids(t, iss); !slices.Equal(got, []string{"rsa-1", "ec-1", "rsa-2"}) {
		t.Fatalf("JWKS kids after rotation = %v", got)
	}
	if h := decodeSegment(t, iss.Mint(t, map[string]any{}), 0); h["kid"] != "rsa-2" {
		t.Fatalf("default kid after rotation = %v, want rsa-2", h["kid"])
	}
}

func TestIssuerDownHandleAndConfig(t *testing.T) {
	t.Parallel()
	iss := pdptest.NewIssuer(t)
	iss.Handle("POST /token", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "token endpoint")
	}))
	resp, err := http.Post(iss.URL()+"/token", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "token endpoint" {
		t.Fatalf("extra handler answered %q", body)
	}

	iss.SetDown(true)
	var doc map[string]any
	if code := getJSON(t, iss.URL()+"/.well-known/openid-configuration", &doc); code != http.StatusServiceUnavailable {
		t.Fatalf("discovery while down = %d, want 503", code)
	}
	iss.SetDown(false)
	if code := getJSON(t, iss.URL()+"/.well-known/openid-configuration", &doc); code != http.StatusOK {
		t.Fatalf("discovery after recovery = %d, want 200", code)
	}

	cfg := iss.Config()
	if cfg.Issuer != iss.URL() || !slices.Equal(cfg.Audiences, []string{pdptest.DefaultAudience}) || cfg.Dialect != trust.DialectGeneric {
		t.Fatalf("Config() = %+v", cfg)
	}
	if cfg := iss.Config("a", "b"); !slices.Equal(cfg.Audiences, []string{"a", "b"}) {
		t.Fatalf("Config(a, b).Audiences = %v", cfg.Audiences)
	}
}

// TestIssuerHS256TokenIsARealConfusionAttack checks that the token would
// pass a naive HMAC check keyed with the published RSA public key, so that
// the verifier's rejection of it is meaningful.
func TestIssuerHS256TokenIsARealConfusionAttack(t *testing.T) {
	t.Parallel()
	iss := pdptest.NewIssuer(t)
	raw := iss.Mint(t, map[string]any{"sub": "mallory"}, pdptest.WithHS256PublicKey())

	var set jose.JSONWebKeySet
	getJSON(t, iss.URL()+"/jwks", &set)
	keys := set.Key("rsa-1")
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys rsa-1", len(keys))
	}
	der, err := x509.MarshalPKIXPublicKey(keys[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatalf("ParseSigned: %v", err)
	}
	if _, err := jws.Verify(secret); err != nil {
		t.Fatalf("HMAC with the public key PEM does not verify: %v", err)
	}
}
