package policy

import (
	"context"
	"encoding/json"
	"testing"
)

func echoBase() *Input {
	at, age := int64(1000), int64(5)
	return &Input{
		Subject: Subject{Type: "user", ID: "alice", Properties: map[string]any{"dept": "ops"},
			Claims: map[string]any{"sub": "alice", "amr": []any{"pwd"}, "n": json.Number("1"), "x": map[string]any{"y": true}},
			Authn:  &Authn{Methods: []string{"pwd"}, ACR: "a", AuthTime: &at, Age: &age}},
		Action:   Action{Name: "read", Properties: map[string]any{"p": "q"}},
		Resource: Resource{Type: "doc", ID: "d1", Properties: map[string]any{"owner": "bob"}},
		Context:  map[string]any{"amount": json.Number("10"), "list": []any{"a", nil}},
		Now:      1005, Client: Caller{ID: "svc"},
	}
}

// TestDecisionCacheKeyCoversInput changes one thing the policy reads at a
// time: the cached policy must answer exactly as the uncached one (the echo
// policy's reason is the whole input), and the key must differ.
func TestDecisionCacheKeyCoversInput(t *testing.T) {
	files := Files{"stepgate/policy.rego": []byte(echoRego)}
	cached, plain := compileFiles(t, files, 1, 0), compileFiles(t, files, 1, -1)
	if cached.cache == nil || cached.cache.clockless {
		t.Fatal("echo policy: want a cache that keys on the clock (the policy reads all of the input)")
	}
	ctx := context.Background()
	cached.Eval(ctx, echoBase())
	if _, _, hit := cached.cache.lookup(echoBase()); !hit {
		t.Fatal("identical input: want a hit")
	}
	baseKey, _ := inputKey(echoBase(), false, readAll)
	i64 := func(n int64) *int64 { return &n }
	cases := []struct {
		name   string
		mutate func(in *Input)
	}{
		{"subject type", func(in *Input) { in.Subject.Type = "service" }},
		{"subject id", func(in *Input) { in.Subject.ID = "bob" }},
		{"subject property", func(in *Input) { in.Subject.Properties["dept"] = "dev" }},
		{"claim value", func(in *Input) { in.Subject.Claims["sub"] = "mallory" }},
		{"nested claim", func(in *Input) { in.Subject.Claims["x"] = map[string]any{"y": false} }},
		{"claim number as string", func(in *Input) { in.Subject.Claims["n"] = "1" }},
		{"extra claim", func(in *Input) { in.Subject.Claims["email"] = "a@b" }},
		{"amr member", func(in *Input) { in.Subject.Claims["amr"] = []any{"pwd", "mfa"} }},
		{"authn methods", func(in *Input) { in.Subject.Authn.Methods = []string{"pwd", "otp"} }},
		{"authn mfa", func(in *Input) { in.Subject.Authn.MFA = true }},
		{"authn acr", func(in *Input) { in.Subject.Authn.ACR = "b" }},
		{"authn auth_time", func(in *Input) { in.Subject.Authn.AuthTime = i64(999) }},
		{"authn age", func(in *Input) { in.Subject.Authn.Age = i64(6) }},
		{"no authn", func(in *Input) { in.Subject.Authn = nil }},
		{"action", func(in *Input) { in.Action.Name = "write" }},
		{"action property", func(in *Input) { in.Action.Properties["p"] = "r" }},
		{"resource type", func(in *Input) { in.Resource.Type = "folder" }},
		{"resource id", func(in *Input) { in.Resource.ID = "d2" }},
		{"resource property", func(in *Input) { in.Resource.Properties["owner"] = "eve" }},
		{"context amount", func(in *Input) { in.Context["amount"] = json.Number("100000") }},
		{"context list", func(in *Input) { in.Context["list"] = []any{"a", "b"} }},
		{"context key moved", func(in *Input) { in.Context = map[string]any{"amoun": json.Number("10"), "tlist": []any{"a", nil}} }},
		{"now", func(in *Input) { in.Now++ }},
		{"client", func(in *Input) { in.Client.ID = "other" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, ref := echoBase(), echoBase()
			tc.mutate(in)
			tc.mutate(ref)
			if k, _ := inputKey(in, false, readAll); k == baseKey {
				t.Fatal("key did not change")
			}
			sameResult(t, tc.name, cached.Eval(ctx, in), plain.Eval(ctx, ref))
		})
	}
}

// TestDecisionCacheUncacheable covers policies and inputs the cache refuses.
func TestDecisionCacheUncacheable(t *testing.T) {
	nondet := Files{"stepgate/policy.rego": []byte(`package stepgate

decision := {"decision": "allow", "reasons": [sprintf("%d", [time.now_ns()])]}
`)}
	if p := compileFiles(t, nondet, 1, 0); p.cache != nil {
		t.Error("a policy calling time.now_ns must not be cached")
	}
	files := Files{"stepgate/policy.rego": []byte(echoRego)}
	p := compileFiles(t, files, 1, 0)
	odd := echoBase()
	odd.Context["weird"] = struct{}{}
	if keys, _, _ := p.cache.lookup(odd); keys != (cacheKeys{}) {
		t.Error("an input with a value of unknown type must not be cached")
	}
	if p := compileFiles(t, files, 1, -1); p.cache != nil {
		t.Error("a negative size must disable the cache")
	}
}

// TestDecisionCacheReturnsCopies: a caller appending to reasons (as the
// step-up shaping does) must not change what the next caller gets.
func TestDecisionCacheReturnsCopies(t *testing.T) {
	p := compileFiles(t, defaultFiles(t), 1, 0)
	in := func() *Input { return claimsInput("billing.pay", []string{"pwd"}, 1_000_000, 1_000_100, nil) }
	first := p.Eval(context.Background(), in())
	first.Reasons = append(first.Reasons[:0], "tampered")
	first.Requirements.AMRAny[0] = "tampered"
	second := p.Eval(context.Background(), in())
	if second.Reasons[0] == "tampered" || second.Requirements.AMRAny[0] == "tampered" {
		t.Fatalf("cached entry was changed through a returned result: %+v", second)
	}
}

// readsRego reads the action name, the authentication and the context,
// nothing else of the input.
const readsRego = `package stepgate

decision := {"decision": "allow", "reasons": [json.marshal([input.action.name, input.subject.authn, input.context])]}
`

// The key covers what the policy reads: inputs that differ only in fields
// the policy never references share an entry (and the policy could not
// tell them apart), a difference in a read field never does, and a value
// OPA cannot represent in an unread field still fails closed instead of
// being answered from the cache.
func TestDecisionCacheKeyFollowsWhatThePolicyReads(t *testing.T) {
	files := Files{"stepgate/policy.rego": []byte(readsRego)}
	cached, plain := compileFiles(t, files, 1, 0), compileFiles(t, files, 1, -1)
	if cached.reads != readSubjectAuthn|readActionName|readContext {
		t.Fatalf("reads %013b", cached.reads)
	}
	ctx := context.Background()
	cached.Eval(ctx, echoBase())
	unread := map[string]func(in *Input){
		"subject id":    func(in *Input) { in.Subject.ID = "bob" },
		"claims":        func(in *Input) { in.Subject.Claims = map[string]any{"sub": "bob", "jti": "new-token"} },
		"resource id":   func(in *Input) { in.Resource.ID = "d2" },
		"resource prop": func(in *Input) { in.Resource.Properties = nil },
		"client":        func(in *Input) { in.Client.ID = "other" },
		"action prop":   func(in *Input) { in.Action.Properties = map[string]any{"p": "z"} },
	}
	for name, mutate := range unread {
		in := echoBase()
		mutate(in)
		if _, _, hit := cached.cache.lookup(in); !hit {
			t.Errorf("%s (unread): want a hit", name)
		}
		if got, want := cached.Eval(ctx, in), plain.Eval(ctx, in); got.Reasons[0] != want.Reasons[0] {
			t.Errorf("%s: cached %v, uncached %v", name, got.Reasons, want.Reasons)
		}
	}
	read := map[string]func(in *Input){
		"action":  func(in *Input) { in.Action.Name = "write" },
		"authn":   func(in *Input) { in.Subject.Authn.ACR = "b" },
		"context": func(in *Input) { in.Context = map[string]any{"amount": json.Number("11")} },
	}
	for name, mutate := range read {
		in := echoBase()
		mutate(in)
		if _, _, hit := cached.cache.lookup(in); hit {
			t.Errorf("%s (read): served from the cache", name)
		}
	}
	odd := echoBase()
	odd.Resource.Properties = map[string]any{"ch": make(chan int)}
	if keys, _, hit := cached.cache.lookup(odd); hit || keys != (cacheKeys{}) {
		t.Errorf("unrepresentable unread value: keys %q hit %v, want uncacheable", keys, hit)
	}
	if res := cached.Eval(ctx, odd); res.Outcome != Deny || res.Err == nil {
		t.Errorf("unrepresentable unread value: %v, want a fail-closed deny", res)
	}
}
