package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// benchAudience is the `aud` of every minted token and the audience both
// stepgate and the OPA wrapper accept.
const benchAudience = "https://api.bench.example"

// idp is a minimal OpenID provider: discovery and JWKS over loopback HTTP,
// plus RS256 and ES256 keys to mint tokens with. It is all stepgate's
// verifier needs, and the same JWKS is handed to OPA's io.jwt.decode_verify.
type idp struct {
	url  string
	srv  *http.Server
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	jwks []byte
}

func startIDP() (*idp, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("idp: rsa key: %w", err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("idp: ec key: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("idp: listen: %w", err)
	}
	p := &idp{url: "http://" + ln.Addr().String(), rsa: rk, ec: ek}
	p.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: rk.Public(), KeyID: "bench-rs256", Algorithm: string(jose.RS256), Use: "sig"},
		{Key: ek.Public(), KeyID: "bench-es256", Algorithm: string(jose.ES256), Use: "sig"},
	}})
	if err != nil {
		return nil, fmt.Errorf("idp: jwks: %w", err)
	}
	discovery, err := json.Marshal(map[string]any{
		"issuer":                                p.url,
		"jwks_uri":                              p.url + "/jwks",
		"authorization_endpoint":                p.url + "/authorize",
		"token_endpoint":                        p.url + "/token",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
	})
	if err != nil {
		return nil, fmt.Errorf("idp: discovery: %w", err)
	}
	mux := http.NewServeMux()
	serveJSON := func(b []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "max-age=3600")
			_, _ = w.Write(b)
		}
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", serveJSON(discovery))
	mux.HandleFunc("GET /jwks", serveJSON(p.jwks))
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *idp) close() { _ = p.srv.Close() }

// mint signs claims with the RS256 or ES256 key.
func (p *idp) mint(alg string, claims map[string]any) (string, error) {
	key := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.rsa, KeyID: "bench-rs256"}}
	if alg == "ES256" {
		key = jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: p.ec, KeyID: "bench-es256"}}
	}
	sig, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("mint %s: %w", alg, err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("mint %s: %w", alg, err)
	}
	return tok, nil
}
