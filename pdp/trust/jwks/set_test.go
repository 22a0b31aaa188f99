package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testProvider serves a JWKS that the test changes, and signs with its keys.
type testProvider struct {
	t        *testing.T
	srv      *httptest.Server
	requests atomic.Int64

	mu        sync.Mutex
	keys      map[string]*ecdsa.PrivateKey
	published []string
	body      string // when set, served instead of the key set
}

func newTestProvider(t *testing.T, kids ...string) *testProvider {
	p := &testProvider{t: t, keys: map[string]*ecdsa.PrivateKey{}}
	for _, kid := range kids {
		p.add(kid)
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p.requests.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.body != "" {
			w.Write([]byte(p.body))
			return
		}
		set := jose.JSONWebKeySet{}
		for _, kid := range p.published {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: p.keys[kid].Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"})
		}
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testProvider) add(kid string) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys[kid] = priv
	p.published = append(p.published, kid)
}

func (p *testProvider) publish(kids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = kids
}

func (p *testProvider) serveBody(body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.body = body
}

func (p *testProvider) sign(kid string) string {
	p.mu.Lock()
	key := p.keys[kid]
	p.mu.Unlock()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	jws, err := s.Sign([]byte(`{"sub":"alice"}`))
	if err != nil {
		p.t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return raw
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestSet(t *testing.T, p *testProvider) (*Set, *testClock) {
	t.Helper()
	clock := &testClock{now: time.Unix(1763770000, 0)}
	s, err := New(Config{URL: p.srv.URL, Client: p.srv.Client(), Now: clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, clock
}

func mustVerify(t *testing.T, s *Set, raw string) {
	t.Helper()
	if _, err := s.VerifySignature(context.Background(), raw); err != nil {
		t.Fatalf("VerifySignature: %v", err)
	}
}

func mustRefuse(t *testing.T, s *Set, raw string) {
	t.Helper()
	if _, err := s.VerifySignature(context.Background(), raw); err == nil {
		t.Fatal("VerifySignature accepted a signature no current key makes")
	}
}

func TestSetGeneration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newTestProvider(t, "a")
	s, clock := newTestSet(t, p)
	if g := s.Generation(ctx); g != 1 {
		t.Fatalf("generation after the first fetch = %d, want 1", g)
	}
	p.add("b")
	clock.Advance(DefaultRefreshMax)
	if g := s.Generation(ctx); g != 1 {
		t.Fatalf("generation after a refresh that added a key = %d, want 1", g)
	}
	mustVerify(t, s, p.sign("b"))
	p.publish("b")
	clock.Advance(DefaultRefreshMax)
	if g := s.Generation(ctx); g != 2 {
		t.Fatalf("generation after a refresh that dropped a key = %d, want 2", g)
	}
	mustRefuse(t, s, p.sign("a"))
	if n := p.requests.Load(); n != 3 {
		t.Fatalf("JWKS requests = %d, want 3", n)
	}
}

func TestSetUnknownKIDInterval(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, "a")
	s, clock := newTestSet(t, p)
	mustVerify(t, s, p.sign("a"))
	p.add("b")
	mustRefuse(t, s, p.sign("b")) // within the interval: no new fetch
	if n := p.requests.Load(); n != 1 {
		t.Fatalf("JWKS requests = %d, want 1", n)
	}
	clock.Advance(DefaultUnknownKIDInterval)
	mustVerify(t, s, p.sign("b"))
	if n := p.requests.Load(); n != 2 {
		t.Fatalf("JWKS requests = %d, want 2", n)
	}
}

func TestSetKeepsKeysOnABrokenDocument(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body string }{
		{"not JSON", "<html>maintenance</html>"},
		{"no keys array", `{"error":"busy"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTestProvider(t, "a")
			s, clock := newTestSet(t, p)
			mustVerify(t, s, p.sign("a"))
			p.serveBody(tt.body)
			clock.Advance(DefaultRefreshMax)
			mustVerify(t, s, p.sign("a"))
			if n := p.requests.Load(); n != 2 {
				t.Fatalf("JWKS requests = %d, want 2", n)
			}
			// An empty but well-formed set, by contrast, drops every key.
			p.serveBody(`{"keys":[]}`)
			clock.Advance(DefaultUnknownKIDInterval)
			waitFor(t, func() bool { return s.Generation(context.Background()) == 2 })
			mustRefuse(t, s, p.sign("a"))
		})
	}
}

func TestParseKeysSkipsWhatCannotVerify(t *testing.T) {
	t.Parallel()
	body := `{"keys":[
		{"kty":"oct","k":"c2VjcmV0","kid":"hmac"},
		{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"enc","use":"enc"},
		{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"hs","alg":"HS256"},
		{"kty":"OKP","crv":"Ed448","x":"AAAA","kid":"ed448"},
		{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"sig"}
	]}`
	keys, err := parseKeys([]byte(body))
	if err != nil {
		t.Fatalf("parseKeys: %v", err)
	}
	if len(keys) != 1 || keys[0].KeyID != "sig" {
		t.Fatalf("kept %d keys (%v), want only \"sig\"", len(keys), keys)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
