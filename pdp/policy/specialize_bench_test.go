package policy

import (
	"context"
	"testing"
)

// BenchmarkPolicyEval measures one uncached evaluation of the default
// policy with the general query and with the per-action specialised one,
// side by side in the same run.
func BenchmarkPolicyEval(b *testing.B) {
	files := defaultFiles(b)
	ctx := context.Background()
	rev := Revision{ID: 1, Hash: files.Hash(), Files: files}
	now := int64(1763770000)
	authn := func(methods []string, mfa bool, age int64) *Authn {
		at := now - age
		return &Authn{Methods: methods, MFA: mfa, AuthTime: &at, Age: &age}
	}
	inputs := []struct {
		name string
		in   *Input
	}{
		{"allow", &Input{Action: Action{Name: "billing.view"}, Subject: Subject{Type: "user", ID: "u", Authn: authn([]string{"pwd", "mfa"}, true, 60)}, Now: now}},
		{"step_up", &Input{Action: Action{Name: "billing.view"}, Subject: Subject{Type: "user", ID: "u", Authn: authn([]string{"pwd"}, false, 3600)}, Now: now}},
		{"ciba", &Input{Action: Action{Name: "billing.pay"}, Subject: Subject{Type: "user", ID: "u", Authn: authn([]string{"mfa"}, true, 5)},
			Context: map[string]any{"channel": "pos", "amount": 200000}, Now: now}},
	}
	for _, mode := range []struct {
		name string
		opts CompileOptions
	}{
		{"general", CompileOptions{DecisionCacheSize: -1, NoSpecialization: true}},
		{"specialised", CompileOptions{DecisionCacheSize: -1}},
	} {
		p, err := Compile(ctx, rev, mode.opts)
		if err != nil {
			b.Fatal(err)
		}
		for _, tc := range inputs {
			b.Run(mode.name+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if r := p.Eval(ctx, tc.in); r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			})
		}
	}
}
