package main

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"

	"github.com/stepgate/stepgate/policies"
)

// benchBundles are the policies the harness was never tuned to, each an
// OPA bundle with its Rego tests, so that `stepgate policy push --activate`
// accepts it: a small step-up policy as a new user writes it (claims and
// input.now, no subject.authn, no declared validity), RBAC with a few
// hundred roles in data, and ABAC over the request's resource attributes.
//
//go:embed policies
var benchBundles embed.FS

// benchPolicy is one policy every side-by-side workload runs on, with the
// request mixes that exercise it.
type benchPolicy struct {
	name  string // "default" for the shipped bundle in policies/
	about string
	// bundle is the OPA bundle, tests included.
	bundle fs.FS
	// cold returns n distinct request templates (placeholders in the
	// subject and the context), warm users × 5 requests that repeat.
	cold func(n int, now int64) []spec
	warm func(users int, now int64) []spec
}

// suffix names the policy in a workload's name ("cold@rbac"); the default
// policy keeps the plain names.
func (p *benchPolicy) suffix() string {
	if p.name == "default" {
		return ""
	}
	return "@" + p.name
}

// benchPolicies lists the policies in the order they run.
func benchPolicies() ([]*benchPolicy, error) {
	sub := func(name string) (fs.FS, error) {
		f, err := fs.Sub(benchBundles, "policies/"+name)
		if err != nil {
			return nil, fmt.Errorf("bench policy %s: %w", name, err)
		}
		return f, nil
	}
	out := []*benchPolicy{{name: "default", about: "stepgate's shipped policy (policies/)", bundle: policies.Bundle(), cold: coldSpecs, warm: warmSpecs}}
	stepup, err := sub("stepup")
	if err != nil {
		return nil, err
	}
	out = append(out, &benchPolicy{name: "stepup", about: "a new user's step-up policy: billing needs an mfa amr within 15 minutes (claims and input.now)",
		bundle: stepup, cold: stepupSpecs(coldSpecs), warm: stepupSpecs(warmSpecs)})
	rbac, err := sub("rbac")
	if err != nil {
		return nil, err
	}
	table, err := readRoles(rbac)
	if err != nil {
		return nil, err
	}
	out = append(out, &benchPolicy{name: "rbac", about: fmt.Sprintf("RBAC: %d roles in data.json, the user's roles from the roles claim", len(table.names)),
		bundle: rbac, cold: table.coldSpecs, warm: table.warmSpecs})
	abac, err := sub("abac")
	if err != nil {
		return nil, err
	}
	out = append(out, &benchPolicy{name: "abac", about: "ABAC: owner, department, classification and amount of the resource against the user's claims",
		bundle: abac, cold: abacCold, warm: abacWarm})
	return out, nil
}

// stepupSpecs takes the default mix and turns every seventh request into an
// action the step-up policy does not know (a deny).
func stepupSpecs(mix func(int, int64) []spec) func(int, int64) []spec {
	return func(n int, now int64) []spec {
		specs := mix(n, now)
		for i := range specs {
			if i%7 == 3 {
				specs[i].action, specs[i].channel = "admin.delete", "web"
			}
		}
		return specs
	}
}

// roleTable is the RBAC bundle's data, for drawing requests it decides
// every way.
type roleTable struct {
	names   []string
	grants  map[string][]string // role → actions, sorted
	actions []string            // every action any role grants, sorted
}

func readRoles(bundle fs.FS) (*roleTable, error) {
	b, err := fs.ReadFile(bundle, "stepgate/data.json")
	if err != nil {
		return nil, fmt.Errorf("rbac data: %w", err)
	}
	var d struct {
		Roles map[string]struct {
			Actions map[string]bool `json:"actions"`
		} `json:"roles"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("rbac data: %w", err)
	}
	t := &roleTable{grants: map[string][]string{}}
	all := map[string]bool{}
	for name, r := range d.Roles {
		t.names = append(t.names, name)
		for a, ok := range r.Actions {
			if ok {
				t.grants[name] = append(t.grants[name], a)
				all[a] = true
			}
		}
		slices.Sort(t.grants[name])
	}
	slices.Sort(t.names)
	for a := range all {
		t.actions = append(t.actions, a)
	}
	slices.Sort(t.actions)
	if len(t.names) == 0 {
		return nil, fmt.Errorf("rbac data: no roles")
	}
	return t, nil
}

// user draws a user's roles (one to four) and authentication.
func (t *roleTable) user(rng *rand.Rand, u int, now int64) (roles []string, amr []string, at int64) {
	for range 1 + rng.IntN(4) {
		roles = append(roles, t.names[rng.IntN(len(t.names))])
	}
	amr, at = userAuth(u, now, rng)
	return roles, amr, at
}

// action draws an action: mostly one the user's roles grant, else any.
func (t *roleTable) action(rng *rand.Rand, roles []string) string {
	if rng.IntN(10) < 6 {
		g := t.grants[roles[rng.IntN(len(roles))]]
		if len(g) > 0 {
			return g[rng.IntN(len(g))]
		}
	}
	return t.actions[rng.IntN(len(t.actions))]
}

func (t *roleTable) coldSpecs(n int, now int64) []spec {
	rng := rand.New(rand.NewPCG(5, 6))
	out := make([]spec, n)
	for i := range out {
		roles, amr, at := t.user(rng, rng.IntN(1000), now)
		out[i] = spec{sub: fmt.Sprintf("cold-%s-%d", placeholder, i), amr: amr, authTime: at, extra: map[string]any{"roles": roles},
			action: t.action(rng, roles), channel: "web", request: fmt.Sprintf("req-%s-%d", placeholder, i)}
	}
	return out
}

func (t *roleTable) warmSpecs(users int, now int64) []spec {
	rng := rand.New(rand.NewPCG(7, 8))
	out := make([]spec, 0, users*5)
	for u := range users {
		roles, amr, at := t.user(rng, u, now)
		for range 5 {
			out = append(out, spec{sub: fmt.Sprintf("user-%04d", u), amr: amr, authTime: at, extra: map[string]any{"roles": roles},
				action: t.action(rng, roles), channel: "web"})
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

var (
	departments     = []string{"sales", "hr", "finance", "ops", "legal"}
	classifications = []string{"public", "internal", "internal", "confidential", "secret"}
	abacActions     = []string{"document.read", "document.read", "document.update", "document.delete", "expense.approve"}
)

// abacRequest draws one request of user sub (department dept): the
// resource is the user's own a third of the time, in the user's department
// half of the time.
func abacRequest(rng *rand.Rand, sub, dept, resID string) (string, resource) {
	action := abacActions[rng.IntN(len(abacActions))]
	if rng.IntN(20) == 0 {
		action = "document.print" // unknown: deny
	}
	owner := fmt.Sprintf("user-%04d", rng.IntN(1000))
	if rng.IntN(3) == 0 {
		owner = sub
	}
	d := departments[rng.IntN(len(departments))]
	if rng.IntN(2) == 0 {
		d = dept
	}
	props := map[string]any{"owner": owner, "department": d, "classification": classifications[rng.IntN(len(classifications))]}
	typ := "document"
	if action == "expense.approve" {
		typ = "expense"
		props["amount"] = []int{120, 4_000, 25_000, 60_000, 150_000}[rng.IntN(5)]
	}
	return action, resource{typ: typ, id: resID, props: props}
}

func abacUser(rng *rand.Rand, u int, now int64) (map[string]any, []string, int64) {
	amr, at := userAuth(u, now, rng)
	return map[string]any{"department": departments[u%len(departments)], "clearance": u % 4}, amr, at
}

func abacCold(n int, now int64) []spec {
	rng := rand.New(rand.NewPCG(9, 10))
	out := make([]spec, n)
	for i := range out {
		u := rng.IntN(1000)
		extra, amr, at := abacUser(rng, u, now)
		sub := fmt.Sprintf("cold-%s-%d", placeholder, i)
		action, res := abacRequest(rng, sub, extra["department"].(string), fmt.Sprintf("doc-%s-%d", placeholder, i))
		out[i] = spec{sub: sub, amr: amr, authTime: at, extra: extra, action: action, resource: res, channel: "web",
			request: fmt.Sprintf("req-%s-%d", placeholder, i)}
	}
	return out
}

func abacWarm(users int, now int64) []spec {
	rng := rand.New(rand.NewPCG(11, 12))
	out := make([]spec, 0, users*5)
	for u := range users {
		extra, amr, at := abacUser(rng, u, now)
		sub := fmt.Sprintf("user-%04d", u)
		for k := range 5 {
			action, res := abacRequest(rng, sub, extra["department"].(string), fmt.Sprintf("doc-%d-%d", u, k))
			out = append(out, spec{sub: sub, amr: amr, authTime: at, extra: extra, action: action, resource: res, channel: "web"})
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// policyNames are the names --policies accepts, in benchPolicies' order.
var policyNames = []string{"default", "stepup", "rbac", "abac"}
