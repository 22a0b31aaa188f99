package policies_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/stepgate/stepgate/policies"
)

// prepareDecision loads the default bundle the way the decision engine does
// (test modules skipped with IsTestFile) and prepares the entrypoint with
// strict compilation and strict built-in errors, so that a built-in error
// anywhere in the policy surfaces here instead of turning into an undefined.
func prepareDecision(tb testing.TB) rego.PreparedEvalQuery {
	tb.Helper()
	loader := bundle.NewFSLoaderWithRoot(policies.Bundle(), ".").
		WithFilter(func(abspath string, _ fs.FileInfo, _ int) bool { return policies.IsTestFile(abspath) })
	b, err := bundle.NewCustomReader(loader).WithRegoVersion(ast.RegoV1).Read()
	if err != nil {
		tb.Fatalf("read embedded bundle: %v", err)
	}
	for _, m := range b.Modules {
		if policies.IsTestFile(m.Path) {
			tb.Fatalf("engine view of the bundle contains test module %s", m.Path)
		}
	}
	pq, err := rego.New(
		rego.Query("data.stepgate.decision"),
		rego.ParsedBundle("default", &b),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Strict(true),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(context.Background())
	if err != nil {
		tb.Fatalf("prepare data.stepgate.decision: %v", err)
	}
	return pq
}

// engineInput builds an input with the JSON shape of pdp.Input, including
// its quirks: a nil amr slice marshals as null, age only with auth_time.
func engineInput(action string, methods []string, mfa bool, age *int64, context map[string]any) map[string]any {
	const now = 1763770000
	authn := map[string]any{"methods": nil, "mfa": mfa}
	if methods != nil {
		authn["methods"] = methods
	}
	if age != nil {
		authn["auth_time"] = now - *age
		authn["age"] = *age
	}
	return map[string]any{
		"subject":  map[string]any{"type": "user", "id": "u1", "properties": nil, "claims": map[string]any{"sub": "u1"}, "authn": authn},
		"action":   map[string]any{"name": action, "properties": nil},
		"resource": map[string]any{"type": "", "id": "", "properties": nil},
		"context":  context,
		"now":      now,
		"client":   map[string]any{"id": "billing-svc"},
	}
}

func seconds(n int64) *int64 { return &n }

func TestDecisionAsTheEngineSeesIt(t *testing.T) {
	pq := prepareDecision(t)
	tests := []struct {
		name  string
		input any
		want  string
	}{
		{name: "fresh mfa views billing", input: engineInput("billing.view", []string{"pwd", "mfa"}, true, seconds(60), nil), want: "allow"},
		{name: "stale mfa", input: engineInput("billing.view", []string{"pwd", "mfa"}, true, seconds(16*60), nil), want: "step_up"},
		{name: "keycloak acr, null amr", input: engineInput("billing.view", nil, true, seconds(60), nil), want: "allow"},
		{name: "no auth_time", input: engineInput("billing.view", []string{"mfa"}, true, nil, nil), want: "step_up"},
		{name: "future auth_time", input: engineInput("billing.view", []string{"mfa"}, true, seconds(-3600), nil), want: "deny"},
		{name: "call centre payment", input: engineInput("billing.pay", []string{"mfa"}, true, seconds(5), map[string]any{"channel": "call_center", "amount": 10}), want: "ciba"},
		{name: "large float amount", input: engineInput("billing.pay", []string{"mfa"}, true, seconds(5), map[string]any{"amount": 100000.5}), want: "ciba"},
		{name: "null context", input: engineInput("billing.pay", []string{"mfa"}, true, seconds(5), nil), want: "allow"},
		{name: "profile update", input: engineInput("profile.update", []string{"pwd"}, false, seconds(5), nil), want: "allow"},
		{name: "unknown action", input: engineInput("nope", []string{"mfa"}, true, seconds(5), nil), want: "deny"},
		{name: "empty input", input: map[string]any{}, want: "deny"},
		{name: "non-object input", input: []any{1, "two"}, want: "deny"},
		{name: "no input", input: nil, want: "deny"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []rego.EvalOption
			if tc.input != nil {
				opts = append(opts, rego.EvalInput(tc.input))
			}
			rs, err := pq.Eval(t.Context(), opts...)
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if len(rs) != 1 || len(rs[0].Expressions) != 1 {
				t.Fatalf("got %d results, want exactly one decision: %+v", len(rs), rs)
			}
			d, ok := rs[0].Expressions[0].Value.(map[string]any)
			if !ok {
				t.Fatalf("decision is %T, want an object", rs[0].Expressions[0].Value)
			}
			if d["decision"] != tc.want {
				t.Errorf("decision = %v (reasons %v), want %s", d["decision"], d["reasons"], tc.want)
			}
			if reasons, _ := d["reasons"].([]any); len(reasons) == 0 {
				t.Errorf("decision %v has no reasons", d)
			}
		})
	}
}

func BenchmarkDecision(b *testing.B) {
	pq := prepareDecision(b)
	inputs := map[string]any{
		"allow":   engineInput("billing.view", []string{"pwd", "mfa"}, true, seconds(60), nil),
		"step_up": engineInput("billing.view", []string{"pwd"}, false, seconds(3600), nil),
		"ciba":    engineInput("billing.pay", []string{"mfa"}, true, seconds(5), map[string]any{"channel": "pos", "amount": 200000}),
	}
	for name, input := range inputs {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := pq.Eval(b.Context(), rego.EvalInput(input)); err != nil {
					b.Fatalf("eval: %v", err)
				}
			}
		})
	}
}
