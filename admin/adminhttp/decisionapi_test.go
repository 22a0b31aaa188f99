package adminhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/storage"
)

// decisionAPI is the real decision API (pdp.Service behind pdphttp) on the
// test env's engine and store, wired to the admin UI the way
// cmd/stepgate wires it: the same service decides sensitive admin actions,
// client changes make the authenticator forget its cache, and decisions
// are audited into the store the audit pages read.
type decisionAPI struct {
	t       testing.TB
	svc     *pdp.Service
	auth    *clientauth.Authenticator
	handler http.Handler
	store   storage.Store
}

// flushUse writes the client key uses the authenticator noted, as
// cmd/stepgate does once a minute.
func (d *decisionAPI) flushUse(t testing.TB) error {
	t.Helper()
	return d.auth.FlushUse(t.Context(), useRecorder{d.store})
}

type useRecorder struct{ s storage.Store }

func (u useRecorder) RecordUse(ctx context.Context, uses []clientauth.Use) error {
	out := make([]storage.ClientUse, len(uses))
	for i, x := range uses {
		out[i] = storage.ClientUse{ClientID: x.ClientID, Previous: x.Previous, At: x.At}
	}
	return u.s.RecordClientUse(ctx, out)
}

// authCacheTTL is long on purpose: a rotated or revoked key stops working
// at once only because the admin UI calls OnClientChange.
const authCacheTTL = time.Hour

// withDecisionAPI builds api from the admin config's engine, store and
// clock and plugs it in as Decisions and OnClientChange.
func withDecisionAPI(t testing.TB, api *decisionAPI) envOption {
	return func(cfg *adminhttp.Config) {
		t.Helper()
		ver, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{pdptest.NewIssuer(t).Config()}})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := pdp.NewService(pdp.ServiceConfig{Engine: cfg.Engine, Verifier: ver,
			Transactions: pdptest.NewTransactions(), Audit: decisionAudit{cfg.Store}, Now: cfg.Now})
		if err != nil {
			t.Fatal(err)
		}
		auth := clientauth.NewAuthenticator(clientLookup{cfg.Store, cfg.Now}, authCacheTTL, cfg.Now)
		h, err := pdphttp.New(pdphttp.Config{Service: svc, Clients: auth})
		if err != nil {
			t.Fatal(err)
		}
		*api = decisionAPI{t: t, svc: svc, auth: auth, handler: h, store: cfg.Store}
		cfg.Decisions, cfg.OnClientChange = svc, auth.Forget
	}
}

// decide posts a native decision request with key; it returns the status
// and, on 200, the answer.
func (d *decisionAPI) decide(key string, req map[string]any) (int, map[string]any) {
	d.t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		d.t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/v1/decision", bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+key)
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	d.handler.ServeHTTP(rec, r)
	var m map[string]any
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			d.t.Fatalf("decision answer: %v: %s", err, rec.Body)
		}
	}
	return rec.Code, m
}

// mustDecide is decide that insists on a 200 and returns the decision id.
func (d *decisionAPI) mustDecide(key string, req map[string]any) (id, outcome string) {
	d.t.Helper()
	code, m := d.decide(key, req)
	if code != http.StatusOK {
		d.t.Fatalf("decision API: status %d for %v", code, req)
	}
	id, _ = m["decision_id"].(string)
	outcome, _ = m["decision"].(string)
	if id == "" {
		d.t.Fatalf("decision without id: %v", m)
	}
	return id, outcome
}

// claimsRequest is a decision request with asserted claims.
func claimsRequest(sub, action string, amr []string, authTime time.Time, ctx map[string]any) map[string]any {
	req := map[string]any{"claims": map[string]any{"sub": sub, "amr": amr, "auth_time": authTime.Unix()}, "action": action}
	if ctx != nil {
		req["context"] = ctx
	}
	return req
}

// decisionAudit adapts the store to pdp.AuditSink, durable before the
// decision is answered, like the audit writer in sync mode.
type decisionAudit struct{ s storage.Store }

func (a decisionAudit) Record(ctx context.Context, evs []pdp.AuditEvent) error {
	recs := make([]storage.AuditRecord, len(evs))
	for i, e := range evs {
		recs[i] = storage.AuditRecord{ChainID: "test", Time: e.Time, Kind: storage.KindDecision, DecisionID: e.DecisionID,
			RequestID: e.RequestID, ClientID: e.ClientID, Subject: e.Subject, Issuer: e.Issuer, Action: e.Action,
			ResourceType: e.ResourceType, ResourceID: e.ResourceID, Outcome: string(e.Outcome), Reasons: e.Reasons,
			PolicyRevision: e.PolicyRevision, PolicyHash: e.PolicyHash, LatencyMicros: e.Latency.Microseconds(),
			Input: e.Input, InputDigest: e.InputDigest, StepUpID: e.StepUpID, CIBAID: e.CIBAID}
	}
	return a.s.AppendAudit(ctx, recs)
}

// clientLookup adapts the store to pdp.ClientLookup as cmd/stepgate does;
// a revoked client, and a previous key past its overlap, are
// unauthenticated.
type clientLookup struct {
	s   storage.Store
	now func() time.Time
}

func (c clientLookup) ClientByKeyHash(ctx context.Context, hash string) (clientauth.Client, error) {
	cl, err := c.s.ClientByKeyHash(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && cl.Disabled) {
		return clientauth.Client{}, clientauth.ErrUnauthenticated
	}
	if err != nil {
		return clientauth.Client{}, err
	}
	out := clientauth.Client{ID: cl.ID, AssertClaims: cl.AssertClaims, ReturnTo: cl.ReturnTo}
	if hash != cl.KeyHash {
		if !cl.PreviousKeyValid(c.now()) {
			return clientauth.Client{}, clientauth.ErrUnauthenticated
		}
		out.PreviousKey, out.KeyExpiresAt = true, *cl.PreviousKeyExpiresAt
	}
	return out, nil
}
