package forwardauth_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/forwardauth"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

const (
	proxyKey    = "sgk_nginx-proxy-key"
	proxyClient = "nginx"
	otherKey    = "sgk_other-proxy-key"
	otherClient = "other-proxy"
)

// audits collects the decisions and flow events stepgate recorded.
type audits struct {
	mu        sync.Mutex
	decisions []pdp.AuditEvent
	flows     []flow.Event
}

func (a *audits) Record(_ context.Context, evs []pdp.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.decisions = append(a.decisions, evs...)
	return nil
}

func (a *audits) RecordFlow(_ context.Context, ev flow.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.flows = append(a.flows, ev)
	return nil
}

func (a *audits) decision(id string) (pdp.AuditEvent, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ev := range a.decisions {
		if ev.DecisionID == id {
			return ev, true
		}
	}
	return pdp.AuditEvent{}, false
}

// stack is stepgate's decision API with forward auth, on in-memory stores.
type stack struct {
	srv     *httptest.Server
	audits  *audits
	handler *forwardauth.Handler
}

type stackConfig struct {
	issuer trust.IssuerConfig
	keys   [][]byte
	routes []forwardauth.Route
	def    forwardauth.DefaultRoute
	header bool
	// trusted proxies count as proxyClient without a key.
	trusted []netip.Prefix
}

// testPolicy is the default policy plus app.view, which any signed-in user
// may do: the pages of the app that need no step-up.
func testPolicy(t testing.TB) policy.Files {
	t.Helper()
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	const name = "stepgate/data.json"
	var data map[string]any
	if err := json.Unmarshal(files[name], &data); err != nil {
		t.Fatalf("%s: %v (files: %v)", name, err, files.Names())
	}
	actions := data["actions"].(map[string]any)
	actions["app.view"] = map[string]any{"description": "Any page of the app: a signed-in user."}
	actions["wire.send"] = map[string]any{"description": "Send a wire: approval on the phone from the web.",
		"mfa": true, "max_age": 300, "ciba": map[string]any{"channels": []any{"web"}}}
	if files[name], err = json.Marshal(data); err != nil {
		t.Fatal(err)
	}
	return files
}

func newStack(t testing.TB, cfg stackConfig) *stack {
	t.Helper()
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{cfg.issuer}})
	if err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(policy.EngineConfig{})
	files := testPolicy(t)
	if err := engine.Load(t.Context(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}); err != nil {
		t.Fatal(err)
	}
	logouts, err := session.NewLogouts(session.LogoutsConfig{Store: pdptest.NewLogouts()})
	if err != nil {
		t.Fatal(err)
	}
	if err := logouts.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	a := &audits{}
	txs := pdptest.NewTransactions()
	elevations := pdptest.NewElevations()
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: verifier, Transactions: txs,
		Elevations: elevations, CIBAOffers: pdptest.NewCIBAOffers(), Logouts: logouts, Flows: a, Audit: a})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := session.NewSessions(session.SessionsConfig{Store: elevations, Verifier: verifier, Logouts: logouts, Audit: a})
	if err != nil {
		t.Fatal(err)
	}
	api, err := pdphttp.New(pdphttp.Config{Service: svc, Clients: clientauth.NewAuthenticator(pdptest.Clients{
		clientauth.HashKey(proxyKey): {ID: proxyClient},
		clientauth.HashKey(otherKey): {ID: otherClient},
	}, 0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.keys == nil {
		cfg.keys = [][]byte{[]byte("0123456789abcdef0123456789abcdef")}
	}
	if cfg.routes == nil {
		cfg.routes = []forwardauth.Route{{Path: "/billing/**", Action: "billing.view", ResourceType: "page"}}
	}
	if cfg.def == (forwardauth.DefaultRoute{}) {
		cfg.def = forwardauth.DefaultRoute{Action: "app.view"}
	}
	h, err := forwardauth.New(forwardauth.Config{Decider: svc, Verifier: verifier, Transactions: txs, Sessions: sessions,
		Routes: cfg.routes, Default: cfg.def, ActionHeader: cfg.header, Keys: cfg.keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.RegisterForwardAuth(pdphttp.ForwardAuthConfig{Handler: h, Client: proxyClient, TrustedProxies: cfg.trusted}); err != nil {
		t.Fatal(err)
	}
	s := &stack{srv: httptest.NewServer(api), audits: a, handler: h}
	t.Cleanup(s.srv.Close)
	return s
}

// hasFlow reports whether at least n flow events of kind have outcome.
func (a *audits) hasFlow(kind, outcome string, n int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ev := range a.flows {
		if ev.Kind == kind && ev.Outcome == outcome {
			n--
		}
	}
	return n <= 0
}
