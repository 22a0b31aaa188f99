package flowtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/api/apitest"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/pdp/ciba/enrollment"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

const (
	clientKey   = "sgk_billing-service-key"
	trustedKey  = "sgk_call-centre-key"
	appID       = "billing-web"
	redirectURI = "http://127.0.0.1:9/callback" // never contacted: the browser stops before it
	cibaID      = "stepgate-ciba"
	cibaSecret  = "stepgate-ciba-secret"
	resource    = "https://api.stepgate.test"
)

// clock is real time plus an offset that tests advance, so that tokens of
// the real provider (stamped with real time) stay valid while tests move
// stepgate past a deadline without sleeping.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.offset) }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.offset += d; c.mu.Unlock() }

// After never fires: tests drive pollers with RunOnce.
func (c *clock) After(time.Duration) <-chan time.Time { return nil }

// flows records audited flow events.
type flows struct {
	mu     sync.Mutex
	events []flow.Event
	// fail, when set, refuses the events it returns an error for, as an
	// audit trail that cannot write would.
	fail func(flow.Event) error
}

func (f *flows) RecordFlow(_ context.Context, ev flow.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(ev); err != nil {
			return err
		}
	}
	f.events = append(f.events, ev)
	return nil
}

func (f *flows) find(kind, outcome string) (flow.Event, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range f.events {
		if ev.Kind == kind && ev.Outcome == outcome {
			return ev, true
		}
	}
	return flow.Event{}, false
}

// env is stepgate's decision API over httptest with in-memory stores.
type env struct {
	clock    *clock
	verifier *trust.Verifier
	svc      *pdp.Service
	offers   ciba.Offers
	requests backchannel.Store
	flows    *flows
	logouts  *session.Logouts
	marks    *pdptest.Logouts
	runner   *ciba.Runner
	srv      *httptest.Server
}

type envConfig struct {
	issuer   trust.IssuerConfig
	requests backchannel.Store // default in memory
	offers   ciba.Offers       // default in memory
	owner    string
}

func newEnv(t testing.TB, cfg envConfig) *env {
	t.Helper()
	e := &env{clock: &clock{}, offers: cfg.offers, flows: &flows{}, requests: cfg.requests}
	if e.requests == nil {
		e.requests = backchannel.NewMemoryStore()
	}
	if e.offers == nil {
		e.offers = pdptest.NewCIBAOffers()
	}
	var err error
	if e.verifier, err = trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{cfg.issuer}, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(policy.EngineConfig{})
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Load(t.Context(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}); err != nil {
		t.Fatal(err)
	}
	elevations := pdptest.NewElevations()
	e.marks = pdptest.NewLogouts()
	if e.logouts, err = session.NewLogouts(session.LogoutsConfig{Store: e.marks, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	if err := e.logouts.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	enrolled, err := enrollment.NewIssuers(e.verifier.Issuers(), enrollment.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if e.svc, err = pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: e.verifier, Transactions: pdptest.NewTransactions(),
		CIBAOffers: e.offers, Elevations: elevations, Logouts: e.logouts, Flows: e.flows, Enrollment: enrolled, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	e.runner = e.newRunner(t, cfg.owner)
	sessions, err := session.NewSessions(session.SessionsConfig{Store: elevations, Verifier: e.verifier, Logouts: e.logouts,
		Audit: e.flows, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	api, err := pdphttp.New(pdphttp.Config{Service: e.svc, Clients: clientauth.NewAuthenticator(pdptest.Clients{
		clientauth.HashKey(clientKey):  {ID: "billing-svc", ReturnTo: []string{"https://app.example/"}},
		clientauth.HashKey(trustedKey): {ID: "call-centre", AssertClaims: true},
	}, 0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	api.RegisterCIBA(e.runner)
	api.RegisterSessions(sessions)
	// Every answer the flows get is checked against the OpenAPI document.
	e.srv = httptest.NewServer(apitest.Handler(t, api))
	t.Cleanup(e.srv.Close)
	return e
}

// newRunner builds a CIBA runner on the env's stores, as a restarted
// process would.
func (e *env) newRunner(t testing.TB, owner string) *ciba.Runner {
	t.Helper()
	r, err := ciba.NewRunner(ciba.RunnerConfig{Verifier: e.verifier, Offers: e.offers, Requests: e.requests,
		Audit: e.flows, Owner: owner, MinInterval: time.Second, DefaultInterval: time.Second,
		Now: e.clock.Now, After: e.clock.After})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// call sends a JSON request with a client key and decodes the answer.
func (e *env) call(t testing.TB, method, path, key string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %s: decode %q: %v", method, path, resp.Status, raw, err)
		}
	}
	return resp.StatusCode
}

// decide asks for a decision with the user's token.
func (e *env) decide(t testing.TB, token, action, session string, ctx map[string]any) pdp.Decision {
	t.Helper()
	body := map[string]any{"token": token, "action": action}
	if session != "" {
		body["session_id"] = session
	}
	if ctx != nil {
		body["context"] = ctx
	}
	var d pdp.Decision
	if code := e.call(t, http.MethodPost, "/v1/decision", clientKey, body, &d); code != http.StatusOK {
		t.Fatalf("decision: HTTP %d: %+v", code, d)
	}
	return d
}

type verifyAnswer struct {
	Verified    bool           `json:"verified"`
	Claims      map[string]any `json:"claims"`
	Error       string         `json:"error"`
	Description string         `json:"error_description"`
	Session     *struct {
		ID        string    `json:"id"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"session"`
}

func (e *env) verify(t testing.TB, txID, idToken, session string) (int, verifyAnswer) {
	t.Helper()
	body := map[string]any{"transaction_id": txID, "id_token": idToken}
	if session != "" {
		body["session_id"] = session
	}
	var v verifyAnswer
	code := e.call(t, http.MethodPost, "/v1/stepup/verify", clientKey, body, &v)
	return code, v
}

func wantOutcome(t testing.TB, d pdp.Decision, want policy.Outcome) {
	t.Helper()
	if d.Outcome != want {
		t.Fatalf("decision = %s %v, want %s", d.Outcome, d.Reasons, want)
	}
}

// cibaStatus is the answer of POST /v1/ciba and GET /v1/ciba/{id}.
type cibaStatus struct {
	ID             string         `json:"id"`
	DecisionID     string         `json:"decision_id"`
	Status         string         `json:"status"`
	ExpiresIn      int64          `json:"expires_in"`
	BindingMessage string         `json:"binding_message"`
	Claims         map[string]any `json:"claims"`
	Error          string         `json:"error_description"`
}

// startCIBA starts the CIBA request a decision offered.
func (e *env) startCIBA(t testing.TB, decisionID string) cibaStatus {
	t.Helper()
	var st cibaStatus
	if code := e.call(t, http.MethodPost, "/v1/ciba", clientKey, map[string]any{"decision_id": decisionID}, &st); code != http.StatusCreated {
		t.Fatalf("POST /v1/ciba: HTTP %d %+v", code, st)
	}
	return st
}

// poll advances the clock by d, runs one pass of r and reads the status.
func (e *env) poll(t testing.TB, r *ciba.Runner, d time.Duration, id string) cibaStatus {
	t.Helper()
	e.clock.Advance(d)
	if _, err := r.RunOnce(t.Context()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	var st cibaStatus
	if code := e.call(t, http.MethodGet, "/v1/ciba/"+id, clientKey, nil, &st); code != http.StatusOK {
		t.Fatalf("GET /v1/ciba/%s: HTTP %d %+v", id, code, st)
	}
	return st
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
