package pdphttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/api/apitest"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

// Client keys of the harness.
const (
	keyService = "sgk_service-key"
	keyTrusted = "sgk_trusted-key"
	appClient  = "web-app"
)

// clock is a settable clock shared by the service and the verifier.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// auditLog records events and can be made to fail.
type auditLog struct {
	mu     sync.Mutex
	events []pdp.AuditEvent
	fail   error
}

func (a *auditLog) Record(_ context.Context, evs []pdp.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.events = append(a.events, evs...)
	return nil
}

func (a *auditLog) Events() []pdp.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]pdp.AuditEvent(nil), a.events...)
}

// flowLog records flow events (step-up verifications) and can be made to
// fail.
type flowLog struct {
	mu     sync.Mutex
	events []flow.Event
	fail   error
}

func (f *flowLog) RecordFlow(_ context.Context, ev flow.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.events = append(f.events, ev)
	return nil
}

func (f *flowLog) Events() []flow.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]flow.Event(nil), f.events...)
}

// storeDown makes the harness's client lookup and step-up transaction
// store fail, as a database outage would.
type storeDown struct{ down atomic.Bool }

var errStoreDown = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

type downClients struct {
	s     *storeDown
	inner clientauth.ClientLookup
}

func (d downClients) ClientByKeyHash(ctx context.Context, h string) (clientauth.Client, error) {
	if d.s.down.Load() {
		return clientauth.Client{}, errStoreDown
	}
	return d.inner.ClientByKeyHash(ctx, h)
}

type downTransactions struct {
	s *storeDown
	*pdptest.Transactions
}

func (d downTransactions) ConsumeStepUp(ctx context.Context, id, clientID string, now time.Time) (stepup.Transaction, error) {
	if d.s.down.Load() {
		return stepup.Transaction{}, errStoreDown
	}
	return d.Transactions.ConsumeStepUp(ctx, id, clientID, now)
}

type harness struct {
	store  storeDown
	t      testing.TB
	idp    *pdptest.Issuer
	clock  *clock
	engine *policy.Engine
	txs    *pdptest.Transactions
	audit  *auditLog
	flows  *flowLog
	srv    *httptest.Server
	svc    *pdp.Service
}

type harnessOption func(*trust.IssuerConfig, *pdphttp.Config)

func withMaxBody(n int64) harnessOption {
	return func(_ *trust.IssuerConfig, c *pdphttp.Config) { c.MaxBodyBytes = n }
}

func withDialect(d trust.Dialect) harnessOption {
	return func(ic *trust.IssuerConfig, _ *pdphttp.Config) { ic.Dialect = d }
}

// newHarness serves the real router over httptest with the default
// policies, a test IdP and in-memory stores.
func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, idp: pdptest.NewIssuer(t), clock: &clock{now: time.Unix(1763770000, 0)},
		txs: pdptest.NewTransactions(), audit: &auditLog{}, flows: &flowLog{}}
	ic := h.idp.Config(pdptest.DefaultAudience, appClient)
	ic.Authorize = &trust.AuthorizeConfig{ClientID: appClient, RedirectURI: "https://app.example/callback", Scopes: []string{"openid", "profile"}}
	ic.CIBA = &trust.CIBAConfig{ClientID: "ciba-client", ClientSecret: "s3cret"}
	var hc pdphttp.Config
	for _, o := range opts {
		o(&ic, &hc)
	}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{ic}, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.engine = policy.NewEngine(policy.EngineConfig{})
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.engine.Load(context.Background(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}); err != nil {
		t.Fatal(err)
	}
	h.svc, err = pdp.NewService(pdp.ServiceConfig{Engine: h.engine, Verifier: verifier, Transactions: downTransactions{&h.store, h.txs},
		Audit: h.audit, Flows: h.flows, Now: h.clock.Now, RedactClaims: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	hc.Service = h.svc
	hc.Clients = clientauth.NewAuthenticator(downClients{&h.store, pdptest.Clients{
		clientauth.HashKey(keyService): {ID: "billing-svc", ReturnTo: []string{"https://app.example/billing/"}},
		clientauth.HashKey(keyTrusted): {ID: "trusted-svc", AssertClaims: true, ReturnTo: []string{"https://app.example/"}},
	}}, time.Minute, h.clock.Now)
	api, err := pdphttp.New(hc)
	if err != nil {
		t.Fatal(err)
	}
	// Every response of every test is checked against the OpenAPI document.
	h.srv = httptest.NewServer(apitest.Handler(t, api))
	t.Cleanup(h.srv.Close)
	return h
}

// token mints a user token for the default audience at the harness clock.
func (h *harness) token(claims map[string]any, opts ...pdptest.MintOption) string {
	h.t.Helper()
	now := h.clock.Now().Unix()
	base := map[string]any{"sub": "auth0|alice", "aud": pdptest.DefaultAudience, "iat": now, "exp": now + 600}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	return h.idp.Mint(h.t, base, opts...)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

// post sends body (marshalled unless already []byte) with the client key.
func (h *harness) post(path, key string, body any, hdr ...string) response {
	h.t.Helper()
	var b []byte
	switch v := body.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			h.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(b))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: rb}
}

// decide posts a native decision and returns the parsed answer.
func (h *harness) decide(key string, body map[string]any) map[string]any {
	h.t.Helper()
	r := h.post("/v1/decision", key, body)
	if r.status != http.StatusOK {
		h.t.Fatalf("decision status %d: %s", r.status, r.body)
	}
	return r.json(h.t)
}
