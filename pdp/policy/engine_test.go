package policy_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
)

func module(body string) policy.Files {
	return policy.Files{"stepgate/policy.rego": []byte("package stepgate\n\n" + body)}
}

func rev(id int64, f policy.Files) policy.Revision {
	return policy.Revision{ID: id, Hash: f.Hash(), Files: f}
}

func input() *policy.Input {
	return &policy.Input{Subject: policy.Subject{ID: "u1", Claims: map[string]any{"sub": "u1"}}, Action: policy.Action{Name: "x"}, Now: 1}
}

func TestEvalFailsClosed(t *testing.T) {
	tests := []struct {
		name   string
		rego   string
		in     *policy.Input
		ctx    func() context.Context
		reason string
		err    error
	}{
		{name: "undefined decision", rego: `decision := {"decision": "allow"} if { input.action.name == "other" }`,
			reason: "no decision", err: policy.ErrUndefinedDecision},
		{name: "decision is not an object", rego: `decision := "allow"`, reason: "malformed", err: policy.ErrMalformedDecision},
		{name: "unknown outcome", rego: `decision := {"decision": "maybe"}`, reason: "malformed", err: policy.ErrMalformedDecision},
		{name: "reasons not strings", rego: `decision := {"decision": "allow", "reasons": [1]}`, reason: "malformed", err: policy.ErrMalformedDecision},
		{name: "negative max_age", rego: `decision := {"decision": "step_up", "requirements": {"max_age": -1}}`, reason: "malformed", err: policy.ErrMalformedDecision},
		{name: "valid_for not a number", rego: `decision := {"decision": "allow", "valid_for": "60"}`, reason: "malformed", err: policy.ErrMalformedDecision},
		{name: "negative valid_for", rego: `decision := {"decision": "allow", "valid_for": -0.5}`, reason: "malformed", err: policy.ErrMalformedDecision},
		{name: "conflicting rules", rego: "decision := {\"decision\": \"allow\"} if { true }\ndecision := {\"decision\": \"deny\"} if { input.now > 0 }",
			reason: "evaluation failed"},
		{name: "builtin error leaves the decision undefined", rego: `decision := {"decision": "allow", "n": to_number("x")}`,
			reason: "no decision", err: policy.ErrUndefinedDecision},
		{name: "timeout", rego: `decision := {"decision": "allow"} if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i * j < 0
} else := {"decision": "allow"}`, reason: "deadline"},
		{name: "input OPA cannot represent", rego: `decision := {"decision": "allow"}`,
			in: &policy.Input{Context: map[string]any{"ch": make(chan int)}}, reason: "input could not be built"},
		{name: "panic during evaluation", rego: `decision := {"decision": "allow"}`,
			ctx: func() context.Context { return panicContext{context.Background()} }, reason: "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.Compile(context.Background(), rev(7, module(tc.rego)), policy.CompileOptions{Timeout: 50 * time.Millisecond})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			in, ctx := tc.in, context.Background()
			if in == nil {
				in = input()
			}
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			res := p.Eval(ctx, in)
			if res.Outcome != policy.Deny {
				t.Fatalf("outcome %s, want deny (fail closed)", res.Outcome)
			}
			if len(res.Reasons) == 0 || !strings.Contains(res.Reasons[0], tc.reason) {
				t.Errorf("reasons %v lack %q", res.Reasons, tc.reason)
			}
			if res.Err == nil || (tc.err != nil && !errors.Is(res.Err, tc.err)) {
				t.Errorf("Err = %v, want %v", res.Err, tc.err)
			}
			if res.Revision != 7 {
				t.Errorf("revision %d, want 7", res.Revision)
			}
		})
	}
}

// panicContext panics when evaluation asks whether it is done.
type panicContext struct{ context.Context }

func (panicContext) Done() <-chan struct{} { panic("boom") }

func TestEvalParsesDecision(t *testing.T) {
	p, err := policy.Compile(context.Background(), rev(3, module(`decision := {
	"decision": "step_up",
	"reasons": ["needs mfa"],
	"requirements": {"acr_values": ["urn:a"], "amr_any": ["mfa"], "max_age": 900},
	"ciba": {"binding_message": "PAY-1"},
	"valid_for": 30.9,
}`)), policy.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := p.Eval(context.Background(), input())
	if res.Err != nil || res.Outcome != policy.StepUp || res.Reasons[0] != "needs mfa" || res.CIBAMessage != "PAY-1" || res.ValidFor != 30 {
		t.Fatalf("result %+v", res)
	}
	r := res.Requirements
	if r.ACRValues[0] != "urn:a" || r.AMRAny[0] != "mfa" || r.MaxAge == nil || *r.MaxAge != 900 {
		t.Fatalf("requirements %+v", r)
	}
}

func TestCompileErrorsHavePositions(t *testing.T) {
	_, err := policy.Compile(context.Background(), rev(1, module("decision := {\"decision\": \"allow\"\n")), policy.CompileOptions{})
	var ce *policy.CompileError
	if !errors.As(err, &ce) || len(ce.Issues) == 0 {
		t.Fatalf("err = %v, want a CompileError with issues", err)
	}
	if i := ce.Issues[0]; i.File != "stepgate/policy.rego" || i.Line == 0 {
		t.Errorf("issue %+v lacks file and line", i)
	}
}

func TestEngineKeepsLastGoodRevision(t *testing.T) {
	e := policy.NewEngine(policy.EngineConfig{})
	if res := e.Eval(context.Background(), input()); res.Outcome != policy.Deny || !errors.Is(res.Err, policy.ErrNoPolicy) {
		t.Fatalf("no policy: %+v", res)
	}
	good := module(`decision := {"decision": "allow"}`)
	if err := e.Load(context.Background(), rev(1, good)); err != nil {
		t.Fatal(err)
	}
	if err := e.Load(context.Background(), rev(2, module("decision := {"))); err == nil {
		t.Fatal("a broken revision loaded")
	}
	res := e.Eval(context.Background(), input())
	if res.Outcome != policy.Allow || res.Revision != 1 {
		t.Fatalf("after failed load: %+v", res)
	}
}

func TestTestModulesAreNotCompiled(t *testing.T) {
	f := module(`decision := {"decision": "allow"}`)
	f["stepgate/policy_test.rego"] = []byte("package stepgate_test\n\ntest_x if { data.stepgate.nothing_here == 1 }\n")
	if _, err := policy.Compile(context.Background(), rev(1, f), policy.CompileOptions{}); err != nil {
		t.Fatalf("compile with a test module: %v", err)
	}
}

// TestHotSwapUnderLoad swaps revisions while many goroutines evaluate: no
// answer may fail, and every answer must come wholly from one revision.
func TestHotSwapUnderLoad(t *testing.T) {
	e := policy.NewEngine(policy.EngineConfig{})
	revs := make([]policy.Revision, 4)
	for i := range revs {
		outcome := []string{"allow", "deny", "step_up", "ciba"}[i]
		f := module(fmt.Sprintf(`decision := {"decision": %q, "reasons": ["rev %d"]}`, outcome, i+1))
		f["stepgate/data.json"] = []byte(fmt.Sprintf(`{"rev": %d}`, i+1))
		revs[i] = rev(int64(i+1), f)
	}
	ctx := context.Background()
	if err := e.Load(ctx, revs[0]); err != nil {
		t.Fatal(err)
	}
	compiled := make([]*policy.Policy, len(revs))
	for i, r := range revs {
		p, err := e.Compile(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		compiled[i] = p
	}
	var stop atomic.Bool
	var evals atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				res := e.Eval(ctx, input())
				evals.Add(1)
				want := fmt.Sprintf("rev %d", res.Revision)
				if res.Err != nil || len(res.Reasons) != 1 || res.Reasons[0] != want ||
					string(res.Outcome) != []string{"allow", "deny", "step_up", "ciba"}[res.Revision-1] {
					select {
					case errc <- fmt.Errorf("mixed or failed answer: %+v", res):
					default:
					}
					return
				}
			}
		})
	}
	for i := 0; i < 2000 || evals.Load() < 20000; i++ {
		e.Swap(compiled[i%len(compiled)])
		if i%50 == 0 {
			runtime.Gosched()
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if evals.Load() == 0 {
		t.Fatal("no evaluations ran")
	}
}
