package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"
)

// echoRego answers allow with the whole input document as its reason, so a
// result served for the wrong input shows in the reason.
const echoRego = `package stepgate

decision := {"decision": "allow", "reasons": [sprintf("%v", [input])]}
`

func compileFiles(tb testing.TB, files Files, id int64, cacheSize int) *Policy {
	tb.Helper()
	p, err := Compile(context.Background(), Revision{ID: id, Hash: files.Hash(), Files: files},
		CompileOptions{DecisionCacheSize: cacheSize})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// defaultFiles reads the default bundle from its directory (the policies
// package embeds the same files; importing it here would be a cycle, since
// it runs bundle tests through this package).
func defaultFiles(tb testing.TB) Files {
	tb.Helper()
	f, err := ReadFS(os.DirFS("../../policies/bundle"))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// withData returns the default bundle with its data document replaced.
func withData(tb testing.TB, data string) Files {
	tb.Helper()
	f := maps.Clone(defaultFiles(tb))
	f["stepgate/data.json"] = []byte(data)
	return f
}

// claimsInput is an input as decide builds it: authn normalised at now.
func claimsInput(action string, amr []string, authTime, now int64, ctx map[string]any) *Input {
	claims := map[string]any{"iss": "https://idp.example/", "sub": "alice", "amr": toAny(amr), "auth_time": json.Number(fmt.Sprint(authTime))}
	return &Input{Subject: Subject{Type: "user", ID: "alice", Claims: claims, Authn: NormalizeAuthn(claims, []string{papeMultiFactor}, now)},
		Action: Action{Name: action}, Resource: Resource{Type: "invoice", ID: "inv_1"}, Context: ctx, Now: now, Client: Caller{ID: "svc"}}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func sameResult(tb testing.TB, what string, got, want Result) {
	tb.Helper()
	maxAge := func(r Result) string {
		if r.Requirements.MaxAge == nil {
			return "none"
		}
		return fmt.Sprint(*r.Requirements.MaxAge)
	}
	if got.Outcome != want.Outcome || !slices.Equal(got.Reasons, want.Reasons) || got.Revision != want.Revision ||
		!slices.Equal(got.Requirements.AMRAny, want.Requirements.AMRAny) ||
		!slices.Equal(got.Requirements.ACRValues, want.Requirements.ACRValues) || maxAge(got) != maxAge(want) ||
		got.CIBAMessage != want.CIBAMessage {
		tb.Fatalf("%s: cached policy answered %s %q, uncached %s %q", what, got.Outcome, got.Reasons, want.Outcome, want.Reasons)
	}
}

// TestDecisionCacheNeverServedAfterExpiry sweeps the clock second by second
// across every boundary of the default policy (clock skew, max_age 300 and
// 900) and checks that the cached policy always answers exactly as an
// uncached one, while actually serving hits in between.
func TestDecisionCacheNeverServedAfterExpiry(t *testing.T) {
	files := defaultFiles(t)
	cached, plain := compileFiles(t, files, 1, 0), compileFiles(t, files, 1, -1)
	if cached.cache == nil || cached.cache.clockless {
		t.Fatal("default policy should be cached, keyed on the clock unless a result declares valid_for")
	}
	const authTime = 1_763_770_000
	cases := []struct {
		name   string
		action string
		amr    []string
		ctx    map[string]any
		from   int64 // first age
		to     int64 // last age
	}{
		{name: "billing.view crosses max_age 900", action: "billing.view", amr: []string{"pwd", "mfa"}, from: 880, to: 920},
		{name: "billing.pay crosses max_age 300", action: "billing.pay", amr: []string{"pwd", "mfa"}, ctx: map[string]any{"amount": json.Number("10")}, from: 280, to: 320},
		{name: "future auth_time crosses the clock skew", action: "billing.view", amr: []string{"pwd", "mfa"}, from: -80, to: 10},
		{name: "step_up without mfa crosses max_age", action: "billing.view", amr: []string{"pwd"}, from: 890, to: 910},
		{name: "ciba from the channel", action: "billing.pay", amr: []string{"pwd", "mfa"}, ctx: map[string]any{"channel": "pos"}, from: 250, to: 350},
		{name: "unknown action", action: "nope", amr: []string{"pwd"}, from: 0, to: 20},
		{name: "profile.update crosses 300", action: "profile.update", amr: []string{"pwd"}, from: 290, to: 310},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hits := 0
			for age := tc.from; age <= tc.to; age++ {
				in := claimsInput(tc.action, tc.amr, authTime, authTime+age, tc.ctx)
				if _, _, hit := cached.cache.lookup(in); hit {
					hits++
				}
				sameResult(t, fmt.Sprintf("age %d", age), cached.Eval(ctx, in), plain.Eval(ctx, claimsInput(tc.action, tc.amr, authTime, authTime+age, tc.ctx)))
			}
			if hits == 0 && tc.name != "future auth_time crosses the clock skew" {
				t.Errorf("no cache hits in %d seconds", tc.to-tc.from+1)
			}
		})
	}
}

// TestDecisionCacheWindow checks the windows of the entries the default
// policy's valid_for gives, directly.
func TestDecisionCacheWindow(t *testing.T) {
	p := compileFiles(t, defaultFiles(t), 1, 0)
	const at, now = 1_000_000, 1_000_700
	cases := []struct {
		name   string
		in     *Input
		out    Outcome
		expect int64
	}{
		{name: "allow lives until age passes max_age", in: claimsInput("billing.view", []string{"mfa"}, at, now, nil), out: Allow, expect: at + 900 + 1},
		{name: "stale step_up lives until maxCacheLifetime", in: claimsInput("profile.update", []string{"pwd"}, at, now, nil), out: StepUp, expect: now + maxCacheLifetime},
		{name: "stale step_up without mfa lives until maxCacheLifetime", in: claimsInput("billing.pay", []string{"pwd"}, at, now, map[string]any{"amount": json.Number("10")}), out: StepUp, expect: now + maxCacheLifetime},
		{name: "fresh step_up without mfa lives until age passes max_age", in: claimsInput("billing.view", []string{"pwd"}, at, now, nil), out: StepUp, expect: at + 900 + 1},
		{name: "ciba does not depend on age", in: claimsInput("billing.pay", []string{"mfa"}, at, now, map[string]any{"channel": "pos"}), out: CIBA, expect: now + maxCacheLifetime},
		{name: "future auth_time lives one second", in: claimsInput("billing.view", []string{"mfa"}, now+100, now, nil), out: Deny, expect: now + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := p.Eval(context.Background(), tc.in)
			if res.Outcome != tc.out {
				t.Fatalf("outcome %s %q, want %s", res.Outcome, res.Reasons, tc.out)
			}
			keys, _, _ := p.cache.lookup(tc.in)
			e, ok := p.cache.entries.Peek(keys.timeless)
			if !ok {
				e, ok = p.cache.entries.Peek(keys.clocked)
			}
			if !ok {
				t.Fatal("nothing stored")
			}
			if e.from != tc.in.Now || e.until != tc.expect {
				t.Fatalf("window [%d, %d), want [%d, %d)", e.from, e.until, tc.in.Now, tc.expect)
			}
		})
	}
}

// TestDecisionCacheStaleStepUpServedLater: a step_up for an authentication
// older than max_age is kept (its reason names auth_time, not the age) and,
// served long after, equals a fresh evaluation at that time; an allow is
// never served once the age passes max_age; a future auth_time's deny names
// the age and lives one second.
func TestDecisionCacheStaleStepUpServedLater(t *testing.T) {
	ctx := context.Background()
	files := defaultFiles(t)
	rev := Revision{ID: 1, Hash: files.Hash(), Files: files}
	cached, plain := NewEngine(EngineConfig{}), NewEngine(EngineConfig{Compile: CompileOptions{DecisionCacheSize: -1}})
	for _, e := range []*Engine{cached, plain} {
		if err := e.Load(ctx, rev); err != nil {
			t.Fatal(err)
		}
	}
	if cached.Active().cache == nil || plain.Active().cache != nil {
		t.Fatal("want the default policy cached in one engine and uncached in the other")
	}
	const at = 1_763_770_000 // 2025-11-22T00:06:40Z
	hit := func(in *Input) bool {
		_, _, ok := cached.Active().cache.lookup(in)
		return ok
	}
	// check evaluates in on both engines, wants the same answer with the
	// given outcome, and reports whether the cached engine served it.
	check := func(what string, in func() *Input, out Outcome) (served bool) {
		t.Helper()
		served = hit(in())
		got, want := cached.Eval(ctx, in()), plain.Eval(ctx, in())
		sameResult(t, what, got, want)
		if got.Outcome != out {
			t.Fatalf("%s: %s %q, want %s", what, got.Outcome, got.Reasons, out)
		}
		return served
	}

	t.Run("stale step_up is served 100 s later", func(t *testing.T) {
		in := func(age int64) func() *Input {
			return func() *Input { return claimsInput("billing.view", []string{"pwd", "mfa"}, at, at+age, nil) }
		}
		if check("age 960", in(960), StepUp) {
			t.Fatal("age 960: served before anything was stored")
		}
		for _, age := range []int64{961, 1060, 960 + maxCacheLifetime - 1} {
			if !check(fmt.Sprintf("age %d", age), in(age), StepUp) {
				t.Fatalf("age %d: stale step_up stored at age 960 was not served", age)
			}
		}
		want := []string{"billing.view needs amr mfa within 900s; last authentication at 2025-11-22T00:06:40Z, more than 900s ago"}
		if r := cached.Eval(ctx, in(1060)()); !slices.Equal(r.Reasons, want) {
			t.Fatalf("reasons %q, want %q", r.Reasons, want)
		}
		if check("age 960+maxCacheLifetime", in(960+maxCacheLifetime), StepUp) {
			t.Fatal("entry served past maxCacheLifetime")
		}
	})

	t.Run("allow is never served past max_age", func(t *testing.T) {
		in := func(age int64) func() *Input {
			return func() *Input {
				return claimsInput("billing.pay", []string{"mfa"}, at, at+age, map[string]any{"amount": json.Number("5")})
			}
		}
		check("age 10", in(10), Allow)
		if !check("age 300", in(300), Allow) {
			t.Fatal("age 300: allow stored at age 10 was not served")
		}
		if check("age 301", in(301), StepUp) {
			t.Fatal("age 301: served a cached answer right after max_age passed")
		}
		// A later stale input may get the step_up stored at 301, never the allow.
		for _, age := range []int64{302, 400, 10_000} {
			check(fmt.Sprintf("age %d", age), in(age), StepUp)
		}
	})

	t.Run("future auth_time deny lives one second", func(t *testing.T) {
		in := func(age int64) func() *Input {
			return func() *Input { return claimsInput("billing.view", []string{"mfa"}, at, at+age, nil) }
		}
		check("age -100", in(-100), Deny)
		for _, age := range []int64{-99, -98} {
			if check(fmt.Sprintf("age %d", age), in(age), Deny) {
				t.Fatalf("age %d: served a future-auth_time deny computed a second earlier", age)
			}
		}
		check("age -60", in(-60), Allow)
	})
}

// TestDecisionCacheExactThresholds: thresholds that float64 rounds across a
// whole second (900.99999999999999999 becomes 901) still give exactly the
// policy's answers, at the max_age and the clock-skew boundary.
func TestDecisionCacheExactThresholds(t *testing.T) {
	files := withData(t, `{"settings": {"clock_skew": 59.99999999999999999},
		"actions": {"billing.view": {"mfa": true, "max_age": 900.99999999999999999}}}`)
	cached, plain := compileFiles(t, files, 1, 0), compileFiles(t, files, 1, -1)
	if cached.cache == nil {
		t.Fatal("default modules should be cached")
	}
	const authTime = 1_763_770_000
	ctx := context.Background()
	for _, r := range [][2]int64{{-70, -50}, {880, 920}} {
		for age := r[0]; age <= r[1]; age++ {
			in := func() *Input { return claimsInput("billing.view", []string{"mfa"}, authTime, authTime+age, nil) }
			sameResult(t, fmt.Sprintf("age %d", age), cached.Eval(ctx, in()), plain.Eval(ctx, in()))
		}
	}
}

// TestDecisionCacheRevisionChange: a new revision never sees the old one's
// answers, even for the identical input.
func TestDecisionCacheRevisionChange(t *testing.T) {
	e := NewEngine(EngineConfig{})
	ctx := context.Background()
	in := func() *Input { return claimsInput("billing.view", []string{"mfa"}, 1_000_000, 1_000_500, nil) }
	load := func(id int64, data string) {
		t.Helper()
		f := withData(t, data)
		if err := e.Load(ctx, Revision{ID: id, Hash: f.Hash(), Files: f}); err != nil {
			t.Fatal(err)
		}
	}
	load(1, `{"actions": {"billing.view": {"mfa": true, "max_age": 900}}}`)
	if r := e.Eval(ctx, in()); r.Outcome != Allow || r.Revision != 1 {
		t.Fatalf("revision 1: %s %d", r.Outcome, r.Revision)
	}
	if r := e.Eval(ctx, in()); r.Outcome != Allow {
		t.Fatalf("revision 1 again: %s", r.Outcome)
	}
	load(2, `{"actions": {"billing.view": {"mfa": true, "max_age": 60}}}`)
	if r := e.Eval(ctx, in()); r.Outcome != StepUp || r.Revision != 2 {
		t.Fatalf("after the swap: %s %q revision %d, want step_up from revision 2", r.Outcome, r.Reasons, r.Revision)
	}
}

// papeMultiFactor is the acr meaning MFA at the test issuer.
const papeMultiFactor = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
