package authzentest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

// assertingClients knows the test key as a client that may assert claims,
// so the native API takes claims without a token.
type assertingClients struct{}

func (assertingClients) Authenticate(_ context.Context, key string) (clientauth.Client, error) {
	if key == testClientKey {
		return clientauth.Client{ID: testClientID, AssertClaims: true}, nil
	}
	return clientauth.Client{}, clientauth.ErrUnauthenticated
}

// startRedacting serves the native and AuthZEN routes with the default
// policies and the given redaction paths, recording audit events.
func startRedacting(tb testing.TB, paths []string) *azServer {
	tb.Helper()
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		tb.Fatal(err)
	}
	engine := policy.NewEngine(policy.EngineConfig{Compile: policy.CompileOptions{Timeout: 5 * time.Second}})
	if err := engine.Load(context.Background(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}); err != nil {
		tb.Fatal(err)
	}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	spy := &auditSpy{}
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: verifier, Transactions: pdptest.NewTransactions(),
		Audit: spy, RedactClaims: paths})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := pdphttp.New(pdphttp.Config{Service: svc, Clients: assertingClients{}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.RegisterAuthZEN(pdphttp.AuthZENConfig{}); err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return &azServer{URL: ts.URL, audit: spy}
}

// The default claim names (and a configured path) are removed wherever a
// decision carries them: nested in asserted claims on the native API and in
// AuthZEN subject.properties; the stored input lists what was removed, and
// its digest covers the list.
func TestStoredInputIsRedacted(t *testing.T) {
	defaults := []string{"email", "name", "given_name", "family_name", "phone_number", "address", "birthdate"}
	srv := startRedacting(t, append(slices.Clone(defaults), "context.card.number"))
	const secret = "alice@example.com"
	tests := []struct {
		name, path string
		body       any
		redacted   []string
	}{
		{
			name: "native claims", path: "/v1/decision",
			body: map[string]any{
				"claims": map[string]any{"sub": "alice", "email": secret, "amr": []any{"pwd"},
					"profile": map[string]any{"email": secret, "contacts": []any{map[string]any{"email": secret, "kind": "work"}}}},
				"action": "billing.view", "context": map[string]any{"card": map[string]any{"number": "4111111111111111", "brand": "visa"}},
			},
			redacted: []string{"subject.claims.email", "subject.claims.profile.contacts.0.email", "subject.claims.profile.email",
				"context.card.number"},
		},
		{
			name: "AuthZEN subject properties", path: pdphttp.PathEvaluation,
			body: map[string]any{
				"subject": map[string]any{"type": "user", "id": "alice",
					"properties": map[string]any{"email": secret, "department": "sales", "manager": map[string]any{"name": "Bob", "email": secret}}},
				"action":   map[string]any{"name": "read"},
				"resource": map[string]any{"type": "record", "id": "r1"},
			},
			redacted: []string{"subject.properties.email", "subject.properties.manager.email", "subject.properties.manager.name"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.audit.recorded())
			if res := srv.post(t, tc.path, tc.body); res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			events := srv.audit.recorded()[before:]
			if len(events) != 1 {
				t.Fatalf("%d audit events, want 1", len(events))
			}
			ev := events[0]
			for _, leak := range []string{secret, "4111111111111111", "Bob"} {
				if strings.Contains(string(ev.Input), leak) {
					t.Errorf("stored input carries %q: %s", leak, ev.Input)
				}
			}
			var in struct {
				Redacted []string       `json:"redacted"`
				Action   map[string]any `json:"action"`
			}
			if err := json.Unmarshal(ev.Input, &in); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(in.Redacted, tc.redacted) {
				t.Errorf("redacted = %q, want %q", in.Redacted, tc.redacted)
			}
			if in.Action["name"] == nil {
				t.Errorf("the claim name %q also removed action.name: %s", "name", ev.Input)
			}
			if ev.InputDigest != sha256Hex(ev.Input) {
				t.Errorf("digest %s does not cover the stored input", ev.InputDigest)
			}
		})
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
