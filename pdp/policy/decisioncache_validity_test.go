package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"testing"
)

// generatedValidityPolicy is a policy in the shape users write: a freshness
// window over the claims' auth_time and input.now, a threshold on a context
// value, and a valid_for that states exactly how long the answer holds (or
// nothing, when declare is false).
func generatedValidityPolicy(maxAge int, threshold int, declare bool) Files {
	validity := ""
	if declare {
		validity = `
valid_for := 86400 if {
	not fresh
} else := (max_age - (input.now - input.subject.claims.auth_time)) + 1
`
	} else {
		validity = "\nvalid_for := 0\n"
	}
	return Files{"stepgate/policy.rego": []byte(fmt.Sprintf(`package stepgate

max_age := %d

fresh if input.now - input.subject.claims.auth_time <= max_age

big if input.context.amount >= %d

answer := {"decision": "step_up", "reasons": [sprintf("%%s: stale since %%v", [input.action.name, input.subject.claims.auth_time])]} if {
	not fresh
} else := {"decision": "ciba", "reasons": ["big"]} if {
	big
} else := {"decision": "allow", "reasons": [sprintf("fresh, %%s", [input.subject.id])]}

decision := object.union(answer, {"valid_for": valid_for})
%s`, maxAge, threshold, validity))}
}

// sweep evaluates in at every second from..to on a cached and a plain
// policy and fails on the first answer that differs; it returns the hits.
func sweep(t *testing.T, cached, plain *Policy, in func(now int64) *Input, from, to int64) int {
	t.Helper()
	ctx := context.Background()
	hits := 0
	for now := from; now <= to; now++ {
		if _, _, hit := cached.cache.lookup(in(now)); hit {
			hits++
		}
		got, want := cached.Eval(ctx, in(now)), plain.Eval(ctx, in(now))
		got.ValidFor, want.ValidFor = 0, 0
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("now %d: cached %+v, plain %+v", now, got, want)
		}
	}
	return hits
}

// Generated policies, declaring valid_for or not, answer from the cache
// exactly as evaluated, second by second across their thresholds, and the
// declaration is what makes entries outlive their second.
func TestDecisionCacheHonoursDeclaredValidity(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := range 12 {
		maxAge, threshold, declare := 30+r.Intn(200), 50+r.Intn(100), i%2 == 0
		t.Run(fmt.Sprintf("max_age=%d/threshold=%d/declare=%v", maxAge, threshold, declare), func(t *testing.T) {
			files := generatedValidityPolicy(maxAge, threshold, declare)
			cached, plain := compileFiles(t, files, 1, 0), compileFiles(t, files, 1, -1)
			if cached.cache == nil || cached.cache.clockless {
				t.Fatal("a policy reading input.now must be cached and keyed on the clock")
			}
			const at = 1_763_770_000
			amount := json.Number(fmt.Sprint(r.Intn(200)))
			in := func(now int64) *Input {
				claims := map[string]any{"sub": "alice", "auth_time": json.Number(fmt.Sprint(at))}
				return &Input{Subject: Subject{Type: "user", ID: "alice", Claims: claims, Authn: NormalizeAuthn(claims, nil, now)},
					Action: Action{Name: "pay"}, Context: map[string]any{"amount": amount}, Now: now}
			}
			hits := sweep(t, cached, plain, in, at-5, at+int64(maxAge)+40)
			span := int64(maxAge) + 46
			switch {
			case declare && hits < int(span)-5:
				t.Errorf("declared validity: %d hits in %d seconds", hits, span)
			case !declare && hits != 0:
				t.Errorf("no declared validity, yet %d hits across seconds", hits)
			}
		})
	}
}

// A policy that cannot see the clock (neither input.now nor authn.age) is
// cached for maxCacheLifetime whatever it declares; one that reads the
// whole authn object or input.now is not.
func TestDecisionCacheClocklessPolicies(t *testing.T) {
	for _, tc := range []struct {
		name, rego string
		clockless  bool
	}{
		{"action and mfa", `decision := {"decision": "allow", "reasons": [input.action.name, sprintf("%v", [input.subject.authn.mfa])]}`, true},
		{"auth_time", `decision := {"decision": "allow", "reasons": [sprintf("%v", [input.subject.authn.auth_time])]}`, true},
		{"claims", `decision := {"decision": "allow", "reasons": [sprintf("%v", [input.subject.claims])]}`, true},
		{"age", `decision := {"decision": "allow", "reasons": [sprintf("%v", [input.subject.authn.age])]}`, false},
		{"authn", `decision := {"decision": "allow", "reasons": [sprintf("%v", [input.subject.authn])]}`, false},
		{"authn key", `decision := {"decision": "allow", "reasons": [sprintf("%v", [input.subject.authn[k]])]} if { some k in ["mfa"] }`, false},
		{"subject", `decision := {"decision": "allow", "reasons": [sprintf("%v", [input.subject])]}`, false},
		{"now", `decision := {"decision": "allow", "reasons": [sprintf("%v", [input.now])]}`, false},
		{"input", `decision := {"decision": "allow", "reasons": [sprintf("%v", [input])]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := Files{"stepgate/policy.rego": []byte("package stepgate\n\n" + tc.rego + "\n")}
			cached, plain := compileFiles(t, files, 1, 0), compileFiles(t, files, 1, -1)
			if cached.cache.clockless != tc.clockless {
				t.Fatalf("clockless %v, want %v", cached.cache.clockless, tc.clockless)
			}
			const at = 1_763_770_000
			in := func(now int64) *Input {
				claims := map[string]any{"sub": "alice", "auth_time": json.Number(fmt.Sprint(at)), "amr": []any{"mfa"}}
				return &Input{Subject: Subject{Type: "user", ID: "alice", Claims: claims, Authn: NormalizeAuthn(claims, nil, now)},
					Action: Action{Name: "read"}, Now: now}
			}
			hits := sweep(t, cached, plain, in, at, at+maxCacheLifetime+10)
			if tc.clockless && hits != maxCacheLifetime+9 {
				t.Errorf("clockless: %d hits, want %d (one miss per lifetime)", hits, maxCacheLifetime+9)
			}
			if !tc.clockless && hits != 0 {
				t.Errorf("clock observed: %d hits across seconds", hits)
			}
		})
	}
}

// benchFiles reads one of stepgate-bench's policies, which were written
// without knowledge of this package.
func benchFiles(tb testing.TB, name string) Files {
	tb.Helper()
	f, err := ReadFS(os.DirFS("../../cmd/stepgate-bench/policies/" + name))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// benchInput draws inputs for the bench policies: roles, departments,
// clearances, resource attributes and authentication ages.
func benchInput(r *rand.Rand, now int64) *Input {
	pick := func(xs ...any) any { return xs[r.Intn(len(xs))] }
	age := pick(int64(5), int64(899), int64(900), int64(901), int64(4000), int64(-30)).(int64)
	claims := map[string]any{"sub": pick("alice", "bob").(string), "auth_time": json.Number(fmt.Sprint(now - age)),
		"amr":        pick([]any{"pwd"}, []any{"pwd", "mfa"}, nil),
		"roles":      pick([]any{"role-000"}, []any{"role-005", "role-014"}, []any{"role-070", 3}, "role-001", nil),
		"department": pick("sales", "hr", nil), "clearance": pick(json.Number("0"), json.Number("2"), json.Number("3"), "x")}
	props := map[string]any{"owner": pick("alice", "bob", nil), "department": pick("sales", "hr"),
		"classification": pick("public", "internal", "secret", "odd"), "amount": pick(json.Number("50"), json.Number("20000"), json.Number("150000"), "lots")}
	return &Input{Subject: Subject{Type: "user", ID: claims["sub"].(string), Claims: claims, Authn: NormalizeAuthn(claims, nil, now)},
		Action: Action{Name: pick("billing.view", "billing.pay", "orders.list", "admin.delete", "invoice.read", "invoice.approve",
			"payroll.delete", "ledger.list", "document.read", "document.update", "document.delete", "expense.approve").(string)},
		Resource: Resource{Type: "document", ID: pick("doc-1", "doc-2").(string), Properties: props},
		Context:  map[string]any{"amount": pick(json.Number("10"), json.Number("100000")), "channel": pick("web", "pos")},
		Now:      now, Client: Caller{ID: "svc"}}
}

// The bench policies answer identically with the cache and per-action
// specialisation and without either, for random inputs over a stretch of
// time in which the same inputs recur.
func TestBenchPoliciesMatchPlainEvaluation(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"stepup", "rbac", "abac"} {
		t.Run(name, func(t *testing.T) {
			files := benchFiles(t, name)
			rev := Revision{ID: 1, Hash: files.Hash(), Files: files}
			fast, err := Compile(ctx, rev, CompileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := Compile(ctx, rev, CompileOptions{DecisionCacheSize: -1, NoSpecialization: true})
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewSource(11))
			outcomes := map[Outcome]int{}
			const start = 1_763_770_000
			for i := range 4000 {
				now := int64(start + i/4) // several decisions per second, inputs recurring
				seed := r.Int63() % 300   // a small population, so answers come from the cache
				in := func() *Input { return benchInput(rand.New(rand.NewSource(seed)), now) }
				got, want := fast.Eval(ctx, in()), plain.Eval(ctx, in())
				if want.Err != nil {
					t.Fatalf("plain evaluation failed: %v", want.Err)
				}
				got.ValidFor, want.ValidFor = 0, 0
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("input %+v:\nfast  %+v\nplain %+v", in(), got, want)
				}
				outcomes[got.Outcome]++
			}
			if len(outcomes) < 3 {
				t.Errorf("outcomes %v: the inputs do not exercise the policy", outcomes)
			}
			if fast.cache.len() == 0 {
				t.Error("nothing was cached")
			}
		})
	}
}
