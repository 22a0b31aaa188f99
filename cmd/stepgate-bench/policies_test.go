package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
)

// TestBenchPoliciesActivate: every bench bundle has Rego tests and passes
// them, so `stepgate policy push --activate` accepts it, and compiles with
// the decision engine.
func TestBenchPoliciesActivate(t *testing.T) {
	all, err := benchPolicies()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(policyNames) {
		t.Fatalf("%d policies, want %d", len(all), len(policyNames))
	}
	for i, p := range all {
		t.Run(p.name, func(t *testing.T) {
			if p.name != policyNames[i] {
				t.Fatalf("policy %d is %s, want %s", i, p.name, policyNames[i])
			}
			results, err := policies.RunTests(t.Context(), p.bundle)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) < 5 {
				t.Fatalf("%d Rego tests, want a real suite", len(results))
			}
			for _, r := range results {
				if !r.Pass {
					t.Errorf("%s.%s: fail %v %s", r.Package, r.Name, r.Fail, r.Error)
				}
			}
			files, err := policy.ReadFS(p.bundle)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := policy.Compile(t.Context(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}, policy.CompileOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestBenchMixesDecideEveryWay: each policy's cold and warm mixes, evaluated
// by the engine as stepgate builds the input, get allow, deny and step_up
// answers (and ciba where the policy has it), with no fail-closed deny; and
// cold requests differ in what the policy reads, so no cache answers one
// from another.
func TestBenchMixesDecideEveryWay(t *testing.T) {
	all, err := benchPolicies()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	for _, p := range all {
		t.Run(p.name, func(t *testing.T) {
			files, err := policy.ReadFS(p.bundle)
			if err != nil {
				t.Fatal(err)
			}
			pol, err := policy.Compile(t.Context(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}, policy.CompileOptions{DecisionCacheSize: -1})
			if err != nil {
				t.Fatal(err)
			}
			for mix, specs := range map[string][]spec{"cold": p.cold(2000, now), "warm": p.warm(200, now)} {
				seen := map[policy.Outcome]int{}
				for i, s := range specs {
					in := inputOf(t, s, i, now)
					res := pol.Eval(t.Context(), in)
					if res.Err != nil {
						t.Fatalf("%s request %d: %v", mix, i, res.Err)
					}
					seen[res.Outcome]++
				}
				for _, o := range []policy.Outcome{policy.Allow, policy.Deny, policy.StepUp} {
					if seen[o] == 0 {
						t.Errorf("%s mix: no %s among %v", mix, o, seen)
					}
				}
				if (p.name == "default" || p.name == "abac") && seen[policy.CIBA] == 0 {
					t.Errorf("%s mix: no ciba among %v", mix, seen)
				}
			}
			for i, s := range p.cold(50, now) {
				if !strings.Contains(s.sub, placeholder) {
					t.Fatalf("cold request %d has a fixed subject %q", i, s.sub)
				}
			}
		})
	}
}

// inputOf builds the policy input stepgate builds for s's native request,
// with request number i in place of the placeholders.
func inputOf(t *testing.T, s spec, i int, now int64) *policy.Input {
	t.Helper()
	body, err := bodyWith(s.native("https://idp.example"), "t"+string(rune('a'+i%26)))
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Claims   map[string]any `json:"claims"`
		Action   string         `json:"action"`
		Resource policy.Resource
		Context  map[string]any `json:"context"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		t.Fatal(err)
	}
	sub, _ := req.Claims["sub"].(string)
	return &policy.Input{Subject: policy.Subject{Type: "user", ID: sub, Claims: req.Claims, Authn: policy.NormalizeAuthn(req.Claims, nil, now)},
		Action: policy.Action{Name: req.Action}, Resource: req.Resource, Context: req.Context, Now: now, Client: policy.Caller{ID: "dev"}}
}
