package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"sync"
	"testing"
)

func frontierOf(t *testing.T, files Files) []string {
	t.Helper()
	p, err := Compile(context.Background(), Revision{ID: 1, Hash: files.Hash(), Files: files}, CompileOptions{DecisionCacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if p.spec == nil {
		return nil
	}
	var out []string
	for _, r := range p.spec.frontier {
		out = append(out, r.String())
	}
	return out
}

func TestSpecializerFrontierOfDefaultPolicy(t *testing.T) {
	got := frontierOf(t, defaultFiles(t))
	for _, want := range []string{"data.stepgate.summary", "data.stepgate.data_valid", "data.stepgate.requirements",
		"data.stepgate.known_action", "data.stepgate.config", "data.stepgate.max_age"} {
		if !slices.Contains(got, want) {
			t.Errorf("frontier %v lacks %s", got, want)
		}
	}
	// These read the subject or the context: never substituted.
	for _, never := range []string{"data.stepgate.decision", "data.stepgate.authn", "data.stepgate.auth_age",
		"data.stepgate.unmet", "data.stepgate.ciba_triggers", "data.stepgate.input_errors", "data.stepgate.auth_in_future"} {
		if slices.Contains(got, never) {
			t.Errorf("frontier %v contains %s, which reads more of the input than the action name", got, never)
		}
	}
}

// trickyPolicy reads the input in every way the purity analysis must see.
const trickyPolicy = `package stepgate

name := input.action.name
name_len := count(name)
props := input.action.properties
whole := input
first_key := min({k | some k, _ in input})
dyn := input.action[k] if { k := "name" }
via_func := f(name)
f(x) := concat("/", [x, input.subject.id])
pure_func(x) := upper(x)
shouted := pure_func(name)
table := data.stepgate.tables[name]
elsey := "big" if { count(name) > 10 } else := input.context.size

decision := {"decision": d, "reasons": [concat(" ", [
	name, format_int(name_len, 10), json.marshal(props), json.marshal(whole.client), json.marshal(first_key),
	json.marshal(dyn), via_func, shouted, json.marshal(table), json.marshal(elsey),
])]} if {
	d := "allow"
	input.subject.id != "mallory"
} else := {"decision": "deny", "reasons": ["mallory"]}
`

func trickyFiles() Files {
	return Files{
		"stepgate/policy.rego": []byte(trickyPolicy),
		"stepgate/data.json":   []byte(`{"tables": {"read": {"x": 1}, "write": [1, 2]}}`),
	}
}

func TestSpecializerPurity(t *testing.T) {
	got := frontierOf(t, trickyFiles())
	for _, want := range []string{"data.stepgate.name", "data.stepgate.name_len", "data.stepgate.shouted", "data.stepgate.table"} {
		if !slices.Contains(got, want) {
			t.Errorf("frontier %v lacks %s, which reads only the action name", got, want)
		}
	}
	for _, never := range []string{"data.stepgate.props", "data.stepgate.whole", "data.stepgate.first_key", "data.stepgate.dyn",
		"data.stepgate.via_func", "data.stepgate.elsey", "data.stepgate.decision"} {
		if slices.Contains(got, never) {
			t.Errorf("frontier %v contains %s", got, never)
		}
	}
}

// randomInput draws inputs that exercise every branch of the default
// policy and of trickyPolicy.
func randomInput(r *rand.Rand) *Input {
	pick := func(xs ...any) any { return xs[r.Intn(len(xs))] }
	now := int64(1763770000)
	in := &Input{
		Subject: Subject{Type: "user", ID: pick("u1", "mallory", "").(string),
			Claims: map[string]any{"sub": "u1"}},
		Action:   Action{Name: pick("billing.view", "billing.pay", "profile.update", "stepgate.admin.policy.activate", "orders.list", "", "read", "write", "a-very-long-action-name").(string)},
		Resource: Resource{Type: "invoice", ID: "inv_1"},
		Context:  pick(map[string]any(nil), map[string]any{}, map[string]any{"channel": "pos"}, map[string]any{"channel": "web", "amount": json.Number("5")}, map[string]any{"amount": json.Number("100000")}, map[string]any{"amount": "lots", "size": "s"}, map[string]any{"channel": "call_center", "amount": json.Number("100000.5")}).(map[string]any),
		Now:      now,
		Client:   Caller{ID: "svc"},
	}
	if r.Intn(3) > 0 {
		in.Action.Properties = map[string]any{"p": json.Number(fmt.Sprint(r.Intn(3)))}
	}
	if r.Intn(8) > 0 {
		a := &Authn{MFA: r.Intn(2) == 0, ACR: pick("", "gold", "urn:loa:3").(string)}
		a.Methods = pick([]string(nil), []string{"pwd"}, []string{"pwd", "mfa"}, []string{"hwk"}).([]string)
		if r.Intn(6) > 0 {
			age := pick(int64(-3600), int64(-61), int64(-60), int64(0), int64(5), int64(299), int64(300), int64(301), int64(900), int64(901), int64(3600)).(int64)
			at := now - age
			a.AuthTime, a.Age = &at, &age
		}
		in.Subject.Authn = a
	}
	return in
}

// Specialised and general evaluation give identical results for the
// default policy, for data variants that make the validation rules speak,
// and for a policy reading the input in every way the analysis must see.
func TestSpecializedDecisionsMatchGeneral(t *testing.T) {
	variants := map[string]Files{"default": defaultFiles(t), "tricky": trickyFiles(), "partial-reads": {
		// Reads a few fields in different sections, so the input is pruned
		// differently from the default policy's.
		"stepgate/policy.rego": []byte(`package stepgate

name := input.action.name

decision := {"decision": "allow", "reasons": [sprintf("%v %v %v %v", [name, input.subject.claims.sub, input.resource.type, object.get(input.action, ["properties", "p"], "-")])]} if {
	input.subject.id != "mallory"
} else := {"decision": "deny", "reasons": [json.marshal(input.context)]}
`)}}
	for name, data := range map[string]string{
		"invalid-entries": `{"settings": {"clock_skew": 0}, "actions": {"billing.view": {"mfa": "yes", "foo": 1}, "billing.pay": {"ciba": {"channels": ["pos"], "amount_at_least": 10, "binding_message": "PAY", "x": 1}}, "profile.update": 5, "orders.list": {"amr_any": ["hwk", "swk"], "acr_values": ["urn:loa:3"], "max_age": 120}}}`,
		"bad-skew":        `{"settings": {"clock_skew": -1}, "actions": {"billing.view": {"max_age": 60}}}`,
	} {
		f := defaultFiles(t)
		f["stepgate/data.json"] = []byte(data)
		variants[name] = f
	}
	ctx := context.Background()
	for name, files := range variants {
		t.Run(name, func(t *testing.T) {
			rev := Revision{ID: 1, Hash: files.Hash(), Files: files}
			spec, err := Compile(ctx, rev, CompileOptions{DecisionCacheSize: -1})
			if err != nil {
				t.Fatal(err)
			}
			if spec.spec == nil {
				t.Fatal("no specializer for this policy")
			}
			general, err := Compile(ctx, rev, CompileOptions{DecisionCacheSize: -1, NoSpecialization: true})
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewSource(7))
			outcomes := map[Outcome]int{}
			for i := 0; i < 3000; i++ {
				in := randomInput(r)
				got, want := spec.Eval(ctx, in), general.Eval(ctx, in)
				if (got.Err == nil) != (want.Err == nil) {
					t.Fatalf("input %+v: errors %v / %v", in, got.Err, want.Err)
				}
				got.Err, want.Err = nil, nil
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("input %+v (action %q):\nspecialised %+v\ngeneral     %+v", in, in.Action.Name, got, want)
				}
				outcomes[got.Outcome]++
			}
			t.Logf("outcomes %v, specialised actions %d", outcomes, spec.spec.actions.Len())
			var specialisedSome bool
			for _, e := range spec.spec.actions.Values() {
				specialisedSome = specialisedSome || e.query != nil
			}
			if !specialisedSome {
				t.Error("no action got a specialised query")
			}
		})
	}
}

// However many distinct names arrive, the specializer holds at most
// maxSpecializedActions queries and maxSightedActions names; a name seen
// once gets none, a name seen twice gets one, and the most recently used
// names keep theirs.
func TestSpecializerIsBounded(t *testing.T) {
	files := defaultFiles(t)
	p, err := Compile(context.Background(), Revision{ID: 1, Hash: files.Hash(), Files: files}, CompileOptions{DecisionCacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	s, ctx := p.spec, context.Background()
	if q := s.query(ctx, "billing.view"); q != nil {
		t.Error("billing.view got a specialised query on its first use")
	}
	if q := s.query(ctx, "billing.view"); q == nil {
		t.Error("billing.view got no specialised query on its second use")
	}
	for i := range 3 * maxSightedActions {
		if q := s.query(ctx, fmt.Sprint("once.", i)); q != nil {
			t.Fatalf("name %d, seen once, got a specialised query", i)
		}
	}
	for i := range 2 * maxSpecializedActions {
		name := fmt.Sprint("twice.", i)
		s.query(ctx, name)
		if q := s.query(ctx, name); q == nil {
			t.Fatalf("%s, seen twice, got no specialised query", name)
		}
		s.query(ctx, "billing.view") // kept in use: never evicted
	}
	specialised, sighted := s.sizes()
	if specialised > maxSpecializedActions || sighted > maxSightedActions {
		t.Errorf("%d specialised, %d sighted; bounds %d and %d", specialised, sighted, maxSpecializedActions, maxSightedActions)
	}
	if e, ok := s.actions.Peek("billing.view"); !ok || e.query == nil {
		t.Error("billing.view, in use throughout, lost its specialised query")
	}
}

// A policy that reads nothing depending on the action alone gets no
// specializer, and neither does a non-deterministic one or one using
// `with` (which could evaluate a substituted rule under another input).
func TestNoSpecializerWithoutActionConstantRules(t *testing.T) {
	for name, src := range map[string]string{
		"subject only": "package stepgate\n\ndecision := {\"decision\": \"allow\", \"reasons\": [input.subject.id]}\n",
		"with":         "package stepgate\n\nname := input.action.name\n\nz := y if { y := name with input as {\"action\": {\"name\": \"z\"}} }\n\ndecision := {\"decision\": \"allow\", \"reasons\": [name, z, input.subject.id]}\n",
		"clock":        "package stepgate\n\nn := input.action.name\n\ndecision := {\"decision\": \"allow\", \"reasons\": [n, format_int(time.now_ns(), 10), input.subject.id]}\n",
	} {
		if got := frontierOf(t, Files{"stepgate/policy.rego": []byte(src)}); got != nil {
			t.Errorf("%s: frontier %v, want none", name, got)
		}
	}
}

// A new revision is specialised for the actions the active one has seen
// before it becomes active.
func TestSwapWarmsSpecializedActions(t *testing.T) {
	e := NewEngine(EngineConfig{})
	files := defaultFiles(t)
	ctx := context.Background()
	if err := e.Load(ctx, Revision{ID: 1, Hash: "h1", Files: files}); err != nil {
		t.Fatal(err)
	}
	e.Eval(ctx, &Input{Action: Action{Name: "billing.view"}, Subject: Subject{Type: "user", ID: "u"}})
	if err := e.Load(ctx, Revision{ID: 2, Hash: "h2", Files: files}); err != nil {
		t.Fatal(err)
	}
	s := e.Active().spec
	if got, ok := s.actions.Peek("billing.view"); !ok || got.query == nil {
		t.Errorf("billing.view not specialised before revision 2 became active: %v", s.actions.Keys())
	}
}

// Concurrent decisions for new and known actions share the specializer
// safely (run with -race) and each action is built once.
func TestSpecializerConcurrentUse(t *testing.T) {
	files := defaultFiles(t)
	p, err := Compile(context.Background(), Revision{ID: 1, Hash: files.Hash(), Files: files}, CompileOptions{DecisionCacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	actions := []string{"billing.view", "billing.pay", "profile.update", "orders.list"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewSource(int64(g)))
			for range 50 {
				in := randomInput(r)
				in.Action.Name = actions[r.Intn(len(actions))]
				if res := p.Eval(context.Background(), in); res.Err != nil {
					t.Errorf("eval: %v", res.Err)
				}
			}
		})
	}
	wg.Wait()
	if n, sighted := p.spec.sizes(); n != len(actions) || sighted != 0 {
		t.Errorf("%d actions specialised, %d sighted; want %d and 0", n, sighted, len(actions))
	}
}
