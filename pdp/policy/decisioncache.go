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

// decisionCache memoises the Results of one compiled Policy. It holds at
// most its size in entries (least recently used go first), however many
// distinct inputs arrive.
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
//     references at all (inputReadsOf; astValue builds only those) — so two
//     inputs share a key only if the policy receives identical input
//     documents, apart from the clock as follows. Values the encoder does
//     not know make the input uncacheable rather than ignored, in fields
//     left out too.
//   - Time: the clock reaches a policy only as input.now and
//     subject.authn.age (now − auth_time). Three cases, decided per policy
//     and per result, none by the policy's text:
//     1. The policy cannot observe either (clockless, see observesClock):
//     the keys leave both out, and an entry lives maxCacheLifetime.
//     2. The result declares valid_for (Result.ValidFor): the policy states
//     that the same request, with only the clock moved on (now and age
//     growing together), gets the same decision for that many seconds. The
//     entry is keyed without now and age — only for inputs whose age is
//     exactly now − auth_time (or absent with auth_time), so that the key's
//     auth_time and the clock determine the age the policy would see — and
//     is served from its now for valid_for seconds at most.
//     3. Otherwise now and age are part of the key, so an entry can only be
//     served within the second it was computed in, which is exactly when
//     the policy would receive the same input.
//
// Only Results without Err are stored: a fail-closed deny (a timeout, a
// panic) says nothing about the next evaluation. Step-up and CIBA answers
// (state, nonce, PKCE verifier, transaction) are never cached: they are
// built per request from the Result, after the cache.
type decisionCache struct {
	entries *lru.Cache[string, cachedResult]
	// reads are the input fields the policy can observe (inputReadsOf);
	// the key covers exactly those, as the policy's input does.
	reads inputField
	// clockless is true when the policy cannot observe input.now nor
	// subject.authn.age (observesClock).
	clockless bool
}

type cachedResult struct {
	res Result
	// from and until bound the `now` values (Unix seconds) the result may be
	// served for: from <= now < until.
	from, until int64
}

// cacheKeys are the keys one input may be found under: timeless (without
// now and age; "" when the input does not qualify) and clocked (with them).
type cacheKeys struct{ timeless, clocked string }

// newDecisionCache returns the cache for a policy compiled from b, or nil
// when the policy cannot be cached or size is negative. It starts
// conservative (every field read, the clock observed); Compile narrows it
// with the policy's analysis.
func newDecisionCache(b *bundle.Bundle, size int) *decisionCache {
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
	return &decisionCache{entries: entries, reads: readAll}
}

// len is how many entries the cache holds.
func (c *decisionCache) len() int {
	if c == nil {
		return 0
	}
	return c.entries.Len()
}

// lookup returns the cached Result for in, if one may be served at in.Now,
// and the keys under which to store a fresh one.
func (c *decisionCache) lookup(in *Input) (keys cacheKeys, res Result, hit bool) {
	if c == nil {
		return keys, Result{}, false
	}
	if c.clockless || ageFollowsClock(in) {
		k, ok := inputKey(in, true, c.reads)
		if !ok {
			return cacheKeys{}, Result{}, false
		}
		keys.timeless = k
		if res, hit = c.get(k, in.Now); hit || c.clockless {
			return keys, res, hit
		}
	}
	k, ok := inputKey(in, false, c.reads)
	if !ok {
		return cacheKeys{}, Result{}, false
	}
	keys.clocked = k
	res, hit = c.get(k, in.Now)
	return keys, res, hit
}

func (c *decisionCache) get(key string, now int64) (Result, bool) {
	e, ok := c.entries.Get(key)
	if !ok || now < e.from || now >= e.until {
		return Result{}, false
	}
	return e.res.clone(), true
}

// store keeps res from in.Now until the first second in which the policy
// could answer differently.
func (c *decisionCache) store(keys cacheKeys, in *Input, res Result) {
	if c == nil || res.Err != nil {
		return
	}
	key, until := keys.clocked, in.Now+1
	switch {
	case c.clockless:
		key, until = keys.timeless, in.Now+maxCacheLifetime
	case res.ValidFor > 1 && keys.timeless != "":
		key, until = keys.timeless, in.Now+min(res.ValidFor, maxCacheLifetime)
	}
	if key == "" {
		return
	}
	c.entries.Add(key, cachedResult{res: res.clone(), from: in.Now, until: until})
}

// ageFollowsClock reports whether in's authentication age is exactly
// now − auth_time, or absent together with auth_time: then auth_time and
// the clock determine the age the policy sees, and a key may leave both
// the clock and the age out.
func ageFollowsClock(in *Input) bool {
	a := in.Subject.Authn
	switch {
	case a == nil || (a.AuthTime == nil && a.Age == nil):
		return true
	case a.AuthTime != nil && a.Age != nil:
		return *a.Age == in.Now-*a.AuthTime
	}
	return false
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
