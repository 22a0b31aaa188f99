package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
)

// reviewedDefaultRego is the fingerprint (regoFingerprint) of the default
// policy's Rego modules in policies/bundle, whose time dependence was
// reviewed for timeModel. A changed module gives another fingerprint, and
// the cache falls back to one-second entries until the new modules are
// reviewed and this constant is updated (TestDecisionCacheRecognisesDefaultPolicy
// fails meanwhile, to ask for that review). The data documents are not part
// of the fingerprint: the model reads its thresholds from the revision's data.
const reviewedDefaultRego = "b5ad539a3b56231cea9d759cbd44126b56be4c2b3353c39c23fb61e016030f58"

// timeModel is the time dependence of the reviewed default policy, which
// lets an entry live beyond the second it was computed in.
//
// Why it is safe. In the reviewed modules, time enters only through
// auth_age: authn.age when it is a number, else input.now − authn.auth_time.
// applies() admits only inputs where age is absent together with auth_time,
// or equals now − auth_time, so auth_age is exactly the current age (or
// undefined, and then nothing depends on time at all); the key keeps
// auth_time. (time.format only turns authn.auth_time into text; it reads no
// clock.) auth_age is read in three places:
//   - auth_in_future (age < −clock_skew) denies, naming the age: such an
//     answer changes every second and lives one second. Age only grows, so
//     an input with age ≥ −clock_skew never reaches this branch later.
//   - age > max_age adds the unmet phrase "last authentication at
//     <auth_time>, more than <max_age>s ago" and so makes a step_up. The
//     phrase names auth_time (in the key) and max_age (the revision's data),
//     never the age or now, and age only grows: at every later second the
//     input is still past max_age (so the phrase stays), still not in the
//     future (age > max_age ≥ 0 ≥ −clock_skew), and the other unmet
//     requirements and the ciba triggers do not read the age. The step_up
//     is therefore the same at every later second and lives until
//     maxCacheLifetime. The policy never allows such an input; should an
//     allow ever come back for it anyway, it lives one second.
//   - otherwise age ≤ max_age, and the answer (step_up for other unmet
//     requirements, or allow) is the same for every age up to max_age: the
//     entry lives until the second when age first exceeds max_age.
//
// Earlier branches of the decision's else chain (unknown action, invalid
// data, invalid input) and ciba never read the age, so those answers live
// until maxCacheLifetime. max_age and clock_skew are read from the
// revision's data exactly as the policy reads them (a non-negative number
// at actions[action].max_age and settings.clock_skew, default 60); an
// invalid value makes the policy deny for invalid data, which again does not
// depend on time. The policy compares them with the age exactly, as decimal
// numbers, and the age is a whole number of seconds, so the model keeps
// their exact floors (wholeSeconds): age > max_age exactly when
// age > ⌊max_age⌋, and age < −clock_skew exactly when age < −⌊clock_skew⌋.
// Rounding them to float64 would not do: 900.99999999999999999 rounds to
// 901, and an allow at age 900 would be served at age 901, when the policy
// steps up.
type timeModel struct {
	maxAge map[string]int64 // ⌊max_age⌋ of each action that has a valid one
	skew   int64            // ⌊clock_skew⌋
}

// newTimeModel returns the model when files hold the reviewed modules, else nil.
func newTimeModel(files Files, data map[string]any) *timeModel {
	if regoFingerprint(files) != reviewedDefaultRego {
		return nil
	}
	m := &timeModel{maxAge: map[string]int64{}, skew: 60}
	sg, _ := data["stepgate"].(map[string]any)
	if settings, ok := sg["settings"].(map[string]any); ok {
		if s, ok := wholeSeconds(settings["clock_skew"]); ok {
			m.skew = s
		}
	}
	actions, _ := sg["actions"].(map[string]any)
	for name, a := range actions {
		if conf, ok := a.(map[string]any); ok {
			if v, ok := wholeSeconds(conf["max_age"]); ok {
				m.maxAge[name] = v
			}
		}
	}
	return m
}

// regoFingerprint hashes the non-test Rego modules with their paths.
func regoFingerprint(files Files) string {
	names := make([]string, 0, len(files))
	for n := range files {
		if strings.HasSuffix(n, ".rego") && !IsTestModule(n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(files[n])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// wholeSeconds returns ⌊v⌋ for a threshold v from the data, computed
// exactly: for every int64 age, age > v as the policy compares numbers
// (exactly, not as float64) holds exactly when age > ⌊v⌋. A threshold
// beyond int64 gives math.MaxInt64, which no age exceeds. ok is false when
// v is not a non-negative number, which the policy does not use as a
// threshold either.
func wholeSeconds(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		return decimalFloor(string(x))
	case float64:
		switch {
		case math.IsNaN(x) || x < 0:
			return 0, false
		case x >= math.MaxInt64: // 2^63 as a float64
			return math.MaxInt64, true
		}
		return int64(math.Floor(x)), true
	case int:
		return wholeSeconds(int64(x))
	case int64:
		if x < 0 {
			return 0, false
		}
		return x, true
	}
	return 0, false
}

// decimalFloor returns ⌊s⌋ for a JSON number s ≥ 0, by moving the decimal
// point in s's digits rather than by rounding to float64 (math.MaxInt64 when
// it does not fit). ok is false when s is negative or not a JSON number.
func decimalFloor(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	mant, exp := strings.TrimPrefix(s, "-"), int64(0)
	if i := strings.IndexAny(mant, "eE"); i >= 0 {
		e, err := strconv.ParseInt(mant[i+1:], 10, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		// ParseInt saturates on overflow; beyond ±2^40 the result is 0 or
		// math.MaxInt64 either way, and the arithmetic below cannot overflow.
		mant, exp = mant[:i], max(-1<<40, min(e, 1<<40))
	}
	whole, frac, _ := strings.Cut(mant, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, false
	}
	digits := strings.TrimLeft(whole+frac, "0")
	if digits == "" {
		return 0, true // zero, "-0" included
	}
	if neg {
		return 0, false
	}
	// The value is digits × 10^exp, with intDigits digits before the point.
	exp -= int64(len(frac))
	intDigits := int64(len(digits)) + exp
	switch {
	case intDigits <= 0:
		return 0, true
	case intDigits > 19: // at least 10^19 > math.MaxInt64
		return math.MaxInt64, true
	}
	if exp >= 0 {
		digits += strings.Repeat("0", int(exp))
	} else {
		digits = digits[:intDigits]
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil { // 19 digits above math.MaxInt64
		return math.MaxInt64, true
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// applies reports whether the model covers in: the reviewed policy, and an
// age that is now − auth_time (or no auth_time and no age).
func (m *timeModel) applies(in *Input) bool {
	if m == nil {
		return false
	}
	a := in.Subject.Authn
	switch {
	case a == nil || (a.AuthTime == nil && a.Age == nil):
		return true
	case a.AuthTime != nil && a.Age != nil:
		return *a.Age == in.Now-*a.AuthTime
	}
	return false
}

// until is the first `now` at which the policy could answer in differently
// from res (exclusive bound of the entry's window).
func (m *timeModel) until(in *Input, res Result) int64 {
	now := in.Now
	forever := now + maxCacheLifetime
	a := in.Subject.Authn
	if a == nil || a.Age == nil {
		return forever
	}
	age := *a.Age
	if age < -m.skew {
		return now + 1
	}
	switch res.Outcome {
	case Deny, CIBA:
		return forever
	case Allow, StepUp:
		limit, ok := m.maxAge[in.Action.Name]
		if !ok {
			return forever
		}
		if age > limit {
			if res.Outcome == StepUp {
				// Stale stays stale, and the reason names auth_time, not the age.
				return forever
			}
			return now + 1
		}
		// age ≤ limit: the answer holds up to the second where age = limit.
		// (limit ≥ 0, so limit−maxCacheLifetime cannot overflow.)
		if age <= limit-maxCacheLifetime {
			return forever
		}
		return now + (limit - age) + 1
	}
	return now + 1
}
