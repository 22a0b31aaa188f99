package pdptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/stepgate/stepgate/pdp/trust"
)

// DefaultAudience is the audience Config uses when none is given.
const DefaultAudience = "https://api.stepgate.test"

// Issuer is a fake OpenID provider for tests. All methods are safe for
// concurrent use, so parallel subtests may share one Issuer.
type Issuer struct {
	srv *httptest.Server
	mux *http.ServeMux

	mu          sync.Mutex
	published   []signingKey // in the JWKS, in order
	rsaKey      signingKey   // default signing key
	ecKey       signingKey
	rotations   int
	unpublished int
	retired     []signingKey // taken out of the JWKS by Unpublish
	jwksHeader  http.Header  // extra headers of JWKS responses

	jwksRequests      atomic.Int64
	discoveryRequests atomic.Int64
	down              atomic.Bool
}

// signingKey is a key Mint signs with: an RSA or EC private key, or HMAC
// key bytes for the confusion attack.
type signingKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key any
	pub crypto.PublicKey
}

// NewIssuer starts a fake IdP with an RSA key "rsa-1" (the default signing
// key) and an EC P-256 key "ec-1". The server stops when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("pdptest: generating RSA key: %v", err)
	}
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("pdptest: generating EC key: %v", err)
	}
	iss := &Issuer{
		mux:    http.NewServeMux(),
		rsaKey: signingKey{kid: "rsa-1", alg: jose.RS256, key: rsaPriv, pub: rsaPriv.Public()},
		ecKey:  signingKey{kid: "ec-1", alg: jose.ES256, key: ecPriv, pub: ecPriv.Public()},
	}
	iss.published = []signingKey{iss.rsaKey, iss.ecKey}
	iss.mux.HandleFunc("GET /.well-known/openid-configuration", iss.serveDiscovery)
	iss.mux.HandleFunc("GET /jwks", iss.serveJWKS)
	iss.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if iss.down.Load() {
			http.Error(w, "pdptest: issuer is down", http.StatusServiceUnavailable)
			return
		}
		iss.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(iss.srv.Close)
	return iss
}

// URL returns the issuer identifier (the server's base URL, no trailing
// slash); discovery runs against it and minted tokens carry it as iss.
func (i *Issuer) URL() string { return i.srv.URL }

// Config returns an IssuerConfig for this issuer accepting aud (default
// DefaultAudience), generic dialect.
func (i *Issuer) Config(aud ...string) trust.IssuerConfig {
	if len(aud) == 0 {
		aud = []string{DefaultAudience}
	}
	return trust.IssuerConfig{Issuer: i.URL(), Audiences: aud, Dialect: trust.DialectGeneric}
}

// Handle registers an extra endpoint on the issuer's server, for tests that
// need a token or backchannel endpoint. Patterns follow http.ServeMux.
func (i *Issuer) Handle(pattern string, h http.Handler) { i.mux.Handle(pattern, h) }

// SetDown makes every endpoint answer 503 (true) or serve again (false).
func (i *Issuer) SetDown(down bool) { i.down.Store(down) }

// JWKSRequests returns how many times the JWKS has been served.
func (i *Issuer) JWKSRequests() int { return int(i.jwksRequests.Load()) }

// DiscoveryRequests returns how many times the discovery document has been
// served.
func (i *Issuer) DiscoveryRequests() int { return int(i.discoveryRequests.Load()) }

// RotateKey publishes a new RSA key in the JWKS and makes it the default
// signing key; it returns the new kid ("rsa-2", "rsa-3", …). Older keys stay
// published, as during a real IdP's rotation.
func (i *Issuer) RotateKey() string {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("pdptest: generating RSA key: %v", err))
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rotations++
	i.rsaKey = signingKey{kid: fmt.Sprintf("rsa-%d", i.rotations+1), alg: jose.RS256, key: priv, pub: priv.Public()}
	i.published = append(i.published, i.rsaKey)
	return i.rsaKey.kid
}

// Unpublish takes the key kid out of the JWKS, as a provider does when it
// retires or revokes a key; WithSigningKey can still sign with it. It
// reports whether the key was published.
func (i *Issuer) Unpublish(kid string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	for n, k := range i.published {
		if k.kid == kid {
			i.retired = append(i.retired, k)
			i.published = append(i.published[:n:n], i.published[n+1:]...)
			return true
		}
	}
	return false
}

// SetJWKSHeader sets a header of every later JWKS response, such as
// Cache-Control; an empty value removes it.
func (i *Issuer) SetJWKSHeader(name, value string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.jwksHeader == nil {
		i.jwksHeader = http.Header{}
	}
	if value == "" {
		i.jwksHeader.Del(name)
		return
	}
	i.jwksHeader.Set(name, value)
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	i.discoveryRequests.Add(1)
	base := i.URL()
	writeJSON(w, map[string]any{
		"issuer":                                     base,
		"authorization_endpoint":                     base + "/authorize",
		"token_endpoint":                             base + "/token",
		"backchannel_authentication_endpoint":        base + "/bc-authorize",
		"jwks_uri":                                   base + "/jwks",
		"end_session_endpoint":                       base + "/logout",
		"userinfo_endpoint":                          base + "/userinfo",
		"response_types_supported":                   []string{"code"},
		"subject_types_supported":                    []string{"public"},
		"id_token_signing_alg_values_supported":      []string{"RS256", "ES256"},
		"grant_types_supported":                      []string{"authorization_code", "refresh_token", "urn:openid:params:grant-type:ciba"},
		"code_challenge_methods_supported":           []string{"S256"},
		"backchannel_token_delivery_modes_supported": []string{"poll"},
		"claims_supported":                           []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "azp"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	i.jwksRequests.Add(1)
	i.mu.Lock()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(i.published))}
	for _, k := range i.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	for name, vals := range i.jwksHeader {
		w.Header()[name] = slices.Clone(vals)
	}
	i.mu.Unlock()
	writeJSON(w, set)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// MintOption changes how Mint signs a token.
type MintOption func(*mintOptions)

type mintOptions struct {
	es256, none, hs256PublicKey, unpublished bool
	kid                                      string
	signingKID                               string
	typ                                      *string
}

// WithES256 signs with the EC P-256 key "ec-1" instead of the RSA key.
func WithES256() MintOption { return func(o *mintOptions) { o.es256 = true } }

// WithKID puts kid in the header while signing with the usual key.
func WithKID(kid string) MintOption { return func(o *mintOptions) { o.kid = kid } }

// WithSigningKey signs with the key kid, published or unpublished (see
// Unpublish), instead of the current RSA key.
func WithSigningKey(kid string) MintOption { return func(o *mintOptions) { o.signingKID = kid } }

// WithType sets the header's typ (default "JWT"); "" leaves typ out.
func WithType(typ string) MintOption { return func(o *mintOptions) { o.typ = &typ } }

// WithAlgNone produces an unsigned token with `alg: none`.
func WithAlgNone() MintOption { return func(o *mintOptions) { o.none = true } }

// WithHS256PublicKey signs with HMAC-SHA256 keyed with the PEM of the RSA
// public key, the classic algorithm-confusion attack.
func WithHS256PublicKey() MintOption { return func(o *mintOptions) { o.hs256PublicKey = true } }

// WithUnpublishedKey signs with a fresh RSA key that is not in the JWKS,
// kid "rotated-N".
func WithUnpublishedKey() MintOption { return func(o *mintOptions) { o.unpublished = true } }

// Mint returns a compact JWT with claims, signed by default with the current
// RSA key (RS256). iss is the issuer's URL unless claims sets it; a claim
// whose value is nil is left out, so {"iss": nil} mints a token without iss.
func (i *Issuer) Mint(t testing.TB, claims map[string]any, opts ...MintOption) string {
	t.Helper()
	var o mintOptions
	for _, opt := range opts {
		opt(&o)
	}
	payload := maps.Clone(claims)
	if payload == nil {
		payload = map[string]any{}
	}
	if _, ok := payload["iss"]; !ok {
		payload["iss"] = i.URL()
	}
	maps.DeleteFunc(payload, func(_ string, v any) bool { return v == nil })
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatalf("pdptest: encoding claims: %v", err)
	}
	if o.none {
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return header + "." + base64.RawURLEncoding.EncodeToString(body) + "."
	}
	key, err := i.mintKey(o)
	if err != nil {
		t.Fatalf("pdptest: %v", err)
	}
	if o.kid != "" {
		key.kid = o.kid
	}
	typ := "JWT"
	if o.typ != nil {
		typ = *o.typ
	}
	return sign(t, key, body, typ)
}

// mintKey picks the key the options ask for.
func (i *Issuer) mintKey(o mintOptions) (signingKey, error) {
	i.mu.Lock()
	rsaKey, ecKey := i.rsaKey, i.ecKey
	i.mu.Unlock()
	switch {
	case o.hs256PublicKey:
		der, err := x509.MarshalPKIXPublicKey(rsaKey.pub)
		if err != nil {
			return signingKey{}, fmt.Errorf("encoding RSA public key: %w", err)
		}
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		return signingKey{kid: rsaKey.kid, alg: jose.HS256, key: pemKey}, nil
	case o.unpublished:
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return signingKey{}, fmt.Errorf("generating RSA key: %w", err)
		}
		i.mu.Lock()
		i.unpublished++
		kid := fmt.Sprintf("rotated-%d", i.unpublished)
		i.mu.Unlock()
		return signingKey{kid: kid, alg: jose.RS256, key: priv, pub: priv.Public()}, nil
	case o.signingKID != "":
		i.mu.Lock()
		defer i.mu.Unlock()
		for _, k := range slices.Concat(i.published, i.retired) {
			if k.kid == o.signingKID {
				return k, nil
			}
		}
		return signingKey{}, fmt.Errorf("no key %q to sign with", o.signingKID)
	case o.es256:
		return ecKey, nil
	default:
		return rsaKey, nil
	}
}

func sign(t testing.TB, key signingKey, payload []byte, typ string) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	var k any = jose.JSONWebKey{Key: key.key, KeyID: key.kid, Algorithm: string(key.alg)}
	if secret, ok := key.key.([]byte); ok {
		// go-jose leaves kid out for symmetric JWKs; the attack wants it.
		k = secret
		opts = opts.WithHeader("kid", key.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.alg, Key: k}, opts)
	if err != nil {
		t.Fatalf("pdptest: signer for %s: %v", key.alg, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("pdptest: signing: %v", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatalf("pdptest: serializing: %v", err)
	}
	return raw
}
