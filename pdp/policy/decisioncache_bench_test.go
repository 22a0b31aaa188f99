package policy

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
)

// BenchmarkDecisionCache measures the policy step with the cache: a hit,
// a miss (key, evaluation and store for an input never seen), the same
// evaluation with the cache off, and the key encoding alone.
func BenchmarkDecisionCache(b *testing.B) {
	files := defaultFiles(b)
	ctx := context.Background()
	const at = 1_763_770_000
	in := claimsInput("billing.view", []string{"pwd", "mfa"}, at, at+60, map[string]any{"channel": "web"})
	b.Run("hit", func(b *testing.B) {
		p := compileFiles(b, files, 1, 0)
		p.Eval(ctx, in)
		b.ReportAllocs()
		for b.Loop() {
			if r := p.Eval(ctx, in); r.Outcome != Allow {
				b.Fatal(r.Reasons)
			}
		}
	})
	distinct := func(b *testing.B, size int) {
		p := compileFiles(b, files, 1, size)
		b.ReportAllocs()
		i := int64(0)
		for b.Loop() {
			i++
			in := claimsInput("billing.view", []string{"pwd", "mfa"}, at-i%600, at, nil)
			in.Subject.Claims["sub"] = json.Number(strconv.FormatInt(i, 10))
			if r := p.Eval(ctx, in); r.Outcome != Allow {
				b.Fatal(r.Reasons)
			}
		}
	}
	b.Run("miss", func(b *testing.B) { distinct(b, 0) })
	b.Run("off", func(b *testing.B) { distinct(b, -1) })
	b.Run("key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := inputKey(in, true, readAll); !ok {
				b.Fatal("uncacheable")
			}
		}
	})
}
