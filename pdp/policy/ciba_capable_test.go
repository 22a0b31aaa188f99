package policy

import (
	"encoding/json"
	"testing"
)

func TestReadsCIBACapable(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"field", `x := input.subject.authn.ciba_capable == true`, true},
		{"enclosing authn", `x := object.get(input.subject.authn, "ciba_capable", null)`, true},
		{"enclosing subject", `x := count(input.subject)`, true},
		{"variable key", `x := input.subject.authn[k] if { k := "ciba_capable" }`, true},
		{"whole input", `x := json.marshal(input)`, true},
		{"other authn field", `x := input.subject.authn.mfa`, false},
		{"claims", `x := input.subject.claims.sub`, false},
		{"context", `x := input.context.channel`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "package stepgate\n\n" + tc.body + "\n\ndecision := {\"decision\": \"allow\", \"reasons\": [json.marshal(x)]}\n"
			p, err := Compile(t.Context(), Revision{ID: 1, Hash: "h", Files: Files{"stepgate/policy.rego": []byte(src)}}, CompileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.ReadsCIBACapable(); got != tc.want {
				t.Errorf("ReadsCIBACapable %v, want %v", got, tc.want)
			}
		})
	}
	// Without analysis (specialisation off) the answer is the safe one.
	src := "package stepgate\n\ndecision := {\"decision\": \"allow\", \"reasons\": []}\n"
	p, err := Compile(t.Context(), Revision{ID: 1, Hash: "h", Files: Files{"stepgate/policy.rego": []byte(src)}}, CompileOptions{NoSpecialization: true})
	if err != nil {
		t.Fatal(err)
	}
	if !p.ReadsCIBACapable() {
		t.Error("an unanalysed policy must count as reading ciba_capable")
	}
}

func TestCIBACapableReachesThePolicy(t *testing.T) {
	src := `package stepgate

decision := {"decision": d, "reasons": [json.marshal(object.get(input.subject.authn, "ciba_capable", "absent"))]} if {
	input.subject.authn.ciba_capable == true
	d := "ciba"
} else := {"decision": "step_up", "reasons": [json.marshal(object.get(input.subject.authn, "ciba_capable", "absent"))]}
`
	for _, opts := range []CompileOptions{{}, {NoSpecialization: true}, {DecisionCacheSize: -1}} {
		p, err := Compile(t.Context(), Revision{ID: 1, Hash: "h", Files: Files{"stepgate/policy.rego": []byte(src)}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		// The same input with each capability: the cache must keep them apart.
		for range 2 {
			for _, tc := range []struct {
				c      CIBACapability
				want   Outcome
				reason string
			}{
				{CIBACapable, CIBA, "true"},
				{CIBANotCapable, StepUp, "false"},
				{CIBAUnknown, StepUp, `"unknown"`},
				{CIBANotLookedUp, StepUp, `"absent"`},
			} {
				in := &Input{Subject: Subject{Type: "user", ID: "u", Authn: &Authn{Methods: []string{"pwd"}, CIBACapable: tc.c}},
					Action: Action{Name: "billing.pay"}}
				res := p.Eval(t.Context(), in)
				if res.Outcome != tc.want || len(res.Reasons) != 1 || res.Reasons[0] != tc.reason {
					t.Errorf("%+v: capability %d gave %s %v, want %s %s", opts, tc.c, res.Outcome, res.Reasons, tc.want, tc.reason)
				}
			}
		}
	}
}

func TestCIBACapabilityJSON(t *testing.T) {
	for c, want := range map[CIBACapability]string{
		CIBACapable:     `{"methods":null,"mfa":false,"ciba_capable":true}`,
		CIBANotCapable:  `{"methods":null,"mfa":false,"ciba_capable":false}`,
		CIBAUnknown:     `{"methods":null,"mfa":false,"ciba_capable":"unknown"}`,
		CIBANotLookedUp: `{"methods":null,"mfa":false}`,
	} {
		b, err := json.Marshal(Authn{CIBACapable: c})
		if err != nil || string(b) != want {
			t.Errorf("%d: %s %v, want %s", c, b, err, want)
		}
		var back Authn
		if err := json.Unmarshal(b, &back); err != nil || back.CIBACapable != c {
			t.Errorf("%s read back as %d, %v", b, back.CIBACapable, err)
		}
	}
	var a Authn
	if err := json.Unmarshal([]byte(`{"ciba_capable":"yes"}`), &a); err == nil {
		t.Error(`"yes" accepted as a capability`)
	}
}
