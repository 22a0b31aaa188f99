package pdp_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// countingObserver counts what the service reports.
type countingObserver struct {
	mu                               sync.Mutex
	decisions, policyErrors, timeout int
}

func (o *countingObserver) ObserveDecision(string, policy.Outcome, time.Duration) {
	o.mu.Lock()
	o.decisions++
	o.mu.Unlock()
}
func (o *countingObserver) ObserveTokenRejected(string) {}
func (o *countingObserver) ObservePolicyError() {
	o.mu.Lock()
	o.policyErrors++
	o.mu.Unlock()
}
func (o *countingObserver) ObservePolicyTimeout() {
	o.mu.Lock()
	o.timeout++
	o.mu.Unlock()
}

// TestObserverTellsTimeoutsFromOtherFailures: an evaluation over its
// deadline is a policy error and a timeout; any other failure only an
// error; both are denied.
func TestObserverTellsTimeoutsFromOtherFailures(t *testing.T) {
	tests := []struct {
		name             string
		rego             string
		errors, timeouts int
	}{
		{"timeout", `package stepgate
decision := {"decision": "allow"} if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i * j < 0
} else := {"decision": "allow"}`, 1, 1},
		{"conflict", "package stepgate\ndecision := {\"decision\": \"allow\"} if { true }\ndecision := {\"decision\": \"deny\"} if { input.now > 0 }", 1, 0},
		{"fine", "package stepgate\ndecision := {\"decision\": \"allow\"}", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idp := pdptest.NewIssuer(t)
			v, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{idp.Config()}})
			if err != nil {
				t.Fatal(err)
			}
			e := policy.NewEngine(policy.EngineConfig{Compile: policy.CompileOptions{Timeout: 30 * time.Millisecond}})
			files := policy.Files{"policy.rego": []byte(tc.rego)}
			if err := e.Load(t.Context(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}); err != nil {
				t.Fatal(err)
			}
			obs := &countingObserver{}
			svc, err := pdp.NewService(pdp.ServiceConfig{Engine: e, Verifier: v, Transactions: pdptest.NewTransactions(), Observer: obs})
			if err != nil {
				t.Fatal(err)
			}
			claims := map[string]any{"iss": idp.URL(), "sub": "alice", "amr": []any{"pwd"}, "auth_time": time.Now().Unix() - 30}
			d, err := svc.Decide(t.Context(), clientauth.Client{ID: "svc", AssertClaims: true}, &pdp.Request{Claims: claims, Action: "billing.view"})
			if err != nil {
				t.Fatal(err)
			}
			if (tc.errors > 0) != (d.Outcome == policy.Deny) {
				t.Errorf("outcome %s with %d errors", d.Outcome, tc.errors)
			}
			if obs.decisions != 1 || obs.policyErrors != tc.errors || obs.timeout != tc.timeouts {
				t.Errorf("observed %d decisions, %d errors, %d timeouts; want 1, %d, %d",
					obs.decisions, obs.policyErrors, obs.timeout, tc.errors, tc.timeouts)
			}
		})
	}
}
