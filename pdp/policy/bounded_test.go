package policy

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// Thousands of distinct action names — unknown to the policy, as a broken
// or hostile client sends them — keep every per-action and per-input cache
// within its bound, every answer correct, and the actions in real use
// specialised.
func TestDistinctActionNamesStayBounded(t *testing.T) {
	ctx := context.Background()
	files := defaultFiles(t)
	rev := Revision{ID: 1, Hash: files.Hash(), Files: files}
	const cacheSize = 1000
	e := NewEngine(EngineConfig{Compile: CompileOptions{DecisionCacheSize: cacheSize}})
	if err := e.Load(ctx, rev); err != nil {
		t.Fatal(err)
	}
	plain, err := Compile(ctx, rev, CompileOptions{DecisionCacheSize: -1, NoSpecialization: true})
	if err != nil {
		t.Fatal(err)
	}
	p := e.Active()
	const at = 1_763_770_000
	// Every input is distinct (auth_time), so that no answer comes from
	// the decision cache and every one reaches the specializer.
	in := func(action string, i int) *Input {
		return claimsInput(action, []string{"pwd", "mfa"}, at-int64(i%700), at+60, nil)
	}
	for i := range 6000 {
		name := fmt.Sprintf("unknown.%d", i)
		if i%10 == 0 {
			name = fmt.Sprintf("twice.%d", i/20) // every such name comes twice: each gets built
		}
		got := e.Eval(ctx, in(name, i))
		if got.Outcome != Deny || !strings.Contains(got.Reasons[0], "unknown action") {
			t.Fatalf("%s: %s %q", name, got.Outcome, got.Reasons)
		}
		if i%100 == 0 {
			// A distinct authentication each time: answered by evaluation.
			known := func() *Input { return claimsInput("billing.view", []string{"mfa"}, at+int64(i), at+int64(i)+60, nil) }
			sameResult(t, name, e.Eval(ctx, known()), plain.Eval(ctx, known()))
		}
	}
	if n := p.cache.len(); n > cacheSize {
		t.Errorf("decision cache holds %d entries, bound %d", n, cacheSize)
	}
	specialised, sighted := p.spec.sizes()
	if specialised > maxSpecializedActions || sighted > maxSightedActions {
		t.Errorf("specializer holds %d queries and %d names, bounds %d and %d", specialised, sighted, maxSpecializedActions, maxSightedActions)
	}
	if q, ok := p.spec.actions.Peek("billing.view"); !ok || q.query == nil {
		t.Error("billing.view, in use throughout, is not specialised")
	}
	t.Logf("decision cache %d entries, %d specialised actions, %d sighted names", p.cache.len(), specialised, sighted)
}

// BenchmarkDistinctActionNames measures a decision whose action name was
// never seen before (the cost a flood of names puts on every decision)
// beside one for a known action with a distinct input.
func BenchmarkDistinctActionNames(b *testing.B) {
	ctx := context.Background()
	files := defaultFiles(b)
	p := compileFiles(b, files, 1, 0)
	const at = 1_763_770_000
	for _, tc := range []struct {
		name   string
		action func(i int) string
	}{
		{"unknown-each-time", func(i int) string { return fmt.Sprintf("unknown.%d", i) }},
		{"known", func(int) string { return "billing.view" }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				in := claimsInput(tc.action(i), []string{"pwd", "mfa"}, at-int64(i%600), at, nil)
				if r := p.Eval(ctx, in); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			specialised, sighted := p.spec.sizes()
			b.ReportMetric(float64(p.cache.len()), "cache-entries")
			b.ReportMetric(float64(specialised+sighted), "action-entries")
		})
	}
}
