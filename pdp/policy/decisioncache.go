package policy

import (
	"slices"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// DefaultDecisionCacheSize is how many policy results one revision keeps
// when CompileOptions.DecisionCacheSize is zero.
const DefaultDecisionCacheSize = 20_000

// maxCacheLifetime bounds how long any entry is served, in seconds, even
// when nothing in the input can change the answer; it only limits how long
// memory is held by inputs that stopped coming.
const maxCacheLifetime = 300

// decisionCache memoises the Results of one compiled Policy.
//
// Correctness argument. A Result is a function of (compiled modules, bundle
// data, input) when the policy calls no non-deterministic built-in (checked
// at compile time, see policyIsDeterministic; otherwise there is no cache).
//   - Modules and data: the cache belongs to one *Policy, which is built from
//     one revision and never changes. A revision change swaps in a new Policy
//     with a new, empty cache, so no entry outlives its revision.
//   - Input: the key is an injective encoding (inputKey) of every field of
//     Input that reaches the policy — of those among subject, claims,
//     authn, action, resource, context and client that the policy
//     references at all (inputReadsOf; astValue builds only those), and
//     now — so two inputs share a key only if the policy receives identical
//     input documents. Values the encoder does not know make the input
//     uncacheable rather than ignored, in fields left out too.
//   - Time: `now` (and authn.age, which is now − auth_time) is part of the
//     key, so an entry can only be served within the second it was computed
//     in, which is exactly when the policy would receive the same input.
//     For the reviewed default policy only, timeModel proves a longer window
//     and then leaves now and age out of the key; see timeModel.
//
// Only Results without Err are stored: a fail-closed deny (a timeout, a
// panic) says nothing about the next evaluation. Step-up and CIBA answers
// (state, nonce, PKCE verifier, transaction) are never cached: they are
// built per request from the Result, after the cache.
type decisionCache struct {
	entries *lru.Cache[string, cachedResult]
	model   *timeModel // nil: time is read arbitrarily; entries live one second
	// reads are the input fields the policy can observe (inputReadsOf);
	// the key covers exactly those, as the policy's input does.
	reads inputField
}

type cachedResult struct {
	res Result
	// from and until bound the `now` values (Unix seconds) the result may be
	// served for: from <= now < until.
	from, until int64
}

// newDecisionCache returns the cache for a policy compiled from b and files,
// or nil when the policy cannot be cached or size is negative.
func newDecisionCache(b *bundle.Bundle, files Files, size int) *decisionCache {
	if size < 0 || !policyIsDeterministic(b) {
		return nil
	}
	if size == 0 {
		size = DefaultDecisionCacheSize
	}
	entries, err := lru.New[string, cachedResult](size)
	if err != nil {
		return nil
	}
	return &decisionCache{entries: entries, model: newTimeModel(files, b.Data), reads: readAll}
}

// lookup returns the cached Result for in, if one may be served at in.Now,
// and the key under which to store a fresh one ("" when in is uncacheable).
func (c *decisionCache) lookup(in *Input) (key string, res Result, hit bool) {
	if c == nil {
		return "", Result{}, false
	}
	timeless := c.model.applies(in)
	key, ok := inputKey(in, timeless, c.reads)
	if !ok {
		return "", Result{}, false
	}
	e, ok := c.entries.Get(key)
	if !ok || in.Now < e.from || in.Now >= e.until {
		return key, Result{}, false
	}
	return key, e.res.clone(), true
}

// store keeps res for key, valid from in.Now until the first second in
// which the policy could answer differently.
func (c *decisionCache) store(key string, in *Input, res Result) {
	if c == nil || key == "" || res.Err != nil {
		return
	}
	until := in.Now + 1
	if c.model.applies(in) {
		until = c.model.until(in, res)
	}
	if until <= in.Now {
		return
	}
	c.entries.Add(key, cachedResult{res: res.clone(), from: in.Now, until: until})
}

// clone copies r deeply, so that callers appending to reasons or
// requirements never write into a cached entry.
func (r Result) clone() Result {
	r.Reasons = slices.Clone(r.Reasons)
	r.Requirements.ACRValues = slices.Clone(r.Requirements.ACRValues)
	r.Requirements.AMRAny = slices.Clone(r.Requirements.AMRAny)
	if r.Requirements.MaxAge != nil {
		v := *r.Requirements.MaxAge
		r.Requirements.MaxAge = &v
	}
	return r
}
