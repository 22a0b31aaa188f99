package pdp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"strings"
)

// reviewedDefaultRego is the fingerprint (regoFingerprint) of the default
// policy's Rego modules in policies/bundle, whose time dependence was
// reviewed for timeModel. A changed module gives another fingerprint, and
// the cache falls back to one-second entries until the new modules are
// reviewed and this constant is updated (TestDecisionCacheRecognisesDefaultPolicy
// fails meanwhile, to ask for that review). The data documents are not part
// of the fingerprint: the model reads its thresholds from the revision's data.
const reviewedDefaultRego = "7f8dd307883f628159a3c0f336d203ea7f515944d904335f28ac6bed64623c0a"

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
// depend on time.
type timeModel struct {
	maxAge map[string]float64
	skew   float64
}

// newTimeModel returns the model when files hold the reviewed modules, else nil.
func newTimeModel(files Files, data map[string]any) *timeModel {
	if regoFingerprint(files) != reviewedDefaultRego {
		return nil
	}
	m := &timeModel{maxAge: map[string]float64{}, skew: 60}
	sg, _ := data["stepgate"].(map[string]any)
	if settings, ok := sg["settings"].(map[string]any); ok {
		if s, ok := nonNegative(settings["clock_skew"]); ok {
			m.skew = s
		}
	}
	actions, _ := sg["actions"].(map[string]any)
	for name, a := range actions {
		if conf, ok := a.(map[string]any); ok {
			if v, ok := nonNegative(conf["max_age"]); ok {
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

func nonNegative(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	case float64:
		f = n
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	default:
		return 0, false
	}
	return f, f >= 0 && !math.IsInf(f, 0)
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
	if float64(age) < -m.skew {
		return now + 1
	}
	switch res.Outcome {
	case Deny, CIBA:
		return forever
	case Allow, StepUp:
		ma, ok := m.maxAge[in.Action.Name]
		if !ok {
			return forever
		}
		limit := int64(math.Floor(ma))
		if age > limit {
			if res.Outcome == StepUp {
				// Stale stays stale, and the reason names auth_time, not the age.
				return forever
			}
			return now + 1
		}
		return min(forever, now+(limit-age)+1)
	}
	return now + 1
}
