package policy

import (
	"testing"
)

func readsOf(t *testing.T, files Files) inputField {
	t.Helper()
	b, err := loadBundle(files.without(IsTestModule))
	if err != nil {
		t.Fatal(err)
	}
	c := compileForAnalysis(b)
	if c == nil {
		t.Fatal("policy not analysable")
	}
	return inputReadsOf(c)
}

func TestInputReadsOfDefaultPolicy(t *testing.T) {
	got := readsOf(t, defaultFiles(t))
	want := readSubjectAuthn | readActionName | readContext | readNow
	if got != want {
		t.Errorf("reads %013b, want %013b (authn, action name, context, now)", got, want)
	}
}

func TestInputReads(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       inputField
	}{
		{"field", `x := input.subject.claims.sub`, readSubjectClaims},
		{"section", `x := count(input.resource)`, readResourceType | readResourceID | readResourceProperties},
		{"variable section", `x := [k | some k, _ in input.action]`, readActionName | readActionProperties},
		{"variable key", `x := input[k] if { k := "now" }`, readAll},
		{"variable field", `x := input.subject[k] if { k := "id" }`, readSubjectType | readSubjectID | readSubjectProperties | readSubjectClaims | readSubjectAuthn},
		{"whole input", `x := json.marshal(input)`, readAll},
		{"inside a reference", `x := data.stepgate.table[input.client.id]`, readClient},
		{"import", "import input.context as ctx\n\nx := ctx.amount", readContext},
		{"unset key", `x := input.tenant`, 0},
		{"function", "f(k) := input.resource.properties[k]\n\nx := f(\"a\")", readResourceProperties},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "package stepgate\n\n" + tc.body + "\n\ndecision := {\"decision\": \"allow\", \"reasons\": [json.marshal(x)]}\n"
			got := readsOf(t, Files{"stepgate/policy.rego": []byte(src)})
			if got != tc.want {
				t.Errorf("reads %013b, want %013b", got, tc.want)
			}
		})
	}
}

// Evaluating with only the fields the policy reads gives the same answers
// as the whole input; TestSpecializedDecisionsMatchGeneral compares both
// together, and this checks that the default policy really is evaluated on
// a pruned input.
func TestDefaultPolicyEvaluatesPrunedInput(t *testing.T) {
	p, err := Compile(t.Context(), Revision{ID: 1, Hash: "h", Files: defaultFiles(t)}, CompileOptions{DecisionCacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if p.reads == readAll || p.reads&readSubjectClaims != 0 {
		t.Fatalf("default policy reads %013b: claims would still be built", p.reads)
	}
	in := &Input{Subject: Subject{Type: "user", ID: "u", Claims: map[string]any{"sub": "u", "odd": []any{1, "x"}}}, Action: Action{Name: "orders.list"}}
	v, err := in.astValue(p.reads)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); got != `{"action": {"name": "orders.list"}, "context": {}, "now": 0, "subject": {}}` {
		t.Errorf("pruned input %s", got)
	}
}
