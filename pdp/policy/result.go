package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ErrUndefinedDecision means the policy did not define data.stepgate.decision
// for the input.
var ErrUndefinedDecision = errors.New("policy decision is undefined")

// ErrMalformedDecision is wrapped when the policy's decision object does not
// follow the contract.
var ErrMalformedDecision = errors.New("malformed policy decision")

// Result is what a policy said about one input.
type Result struct {
	Outcome      Outcome
	Reasons      []string
	Requirements Requirements
	// CIBAMessage is the policy's binding_message suggestion, unchecked.
	CIBAMessage string
	Revision    int64
	Hash        string
	// ValidFor is the decision's own statement of how long, in seconds
	// from the input's now, the same request keeps getting the same
	// decision as the clock moves on (the result's valid_for); 0 when it
	// says nothing, which means only the current second. It is advice to
	// the decision cache, not part of the answer.
	ValidFor int64
	// Err is set when the outcome is a fail-closed deny.
	Err error
}

// parseResult checks the decision object against the policy contract:
// {"decision": "...", "reasons": [...], "requirements": {...}, "ciba": {...},
// "valid_for": N}.
func parseResult(v any) (Result, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Result{}, fmt.Errorf("%w: want an object, got %T", ErrMalformedDecision, v)
	}
	var r Result
	d, _ := obj["decision"].(string)
	r.Outcome = Outcome(d)
	if !r.Outcome.Valid() {
		return Result{}, fmt.Errorf("%w: decision %v is not allow, deny, step_up or ciba", ErrMalformedDecision, obj["decision"])
	}
	var err error
	if r.Reasons, err = stringList(obj["reasons"], "reasons"); err != nil {
		return Result{}, err
	}
	if req, ok := obj["requirements"]; ok && req != nil {
		m, ok := req.(map[string]any)
		if !ok {
			return Result{}, fmt.Errorf("%w: requirements must be an object", ErrMalformedDecision)
		}
		if r.Requirements.ACRValues, err = stringList(m["acr_values"], "requirements.acr_values"); err != nil {
			return Result{}, err
		}
		if r.Requirements.AMRAny, err = stringList(m["amr_any"], "requirements.amr_any"); err != nil {
			return Result{}, err
		}
		if ma, ok := m["max_age"]; ok && ma != nil {
			n, err := nonNegativeInt(ma)
			if err != nil {
				return Result{}, fmt.Errorf("%w: requirements.max_age: %v", ErrMalformedDecision, err)
			}
			r.Requirements.MaxAge = &n
		}
		if fl, ok := m["fresh_login"]; ok && fl != nil {
			b, ok := fl.(bool)
			if !ok {
				return Result{}, fmt.Errorf("%w: requirements.fresh_login must be true or false", ErrMalformedDecision)
			}
			r.Requirements.FreshLogin = b
		}
	}
	if vf, ok := obj["valid_for"]; ok && vf != nil {
		if r.ValidFor, err = validFor(vf); err != nil {
			return Result{}, err
		}
	}
	if c, ok := obj["ciba"]; ok && c != nil {
		m, ok := c.(map[string]any)
		if !ok {
			return Result{}, fmt.Errorf("%w: ciba must be an object", ErrMalformedDecision)
		}
		if bm, ok := m["binding_message"]; ok && bm != nil {
			s, ok := bm.(string)
			if !ok {
				return Result{}, fmt.Errorf("%w: ciba.binding_message must be a string", ErrMalformedDecision)
			}
			r.CIBAMessage = s
		}
	}
	return r, nil
}

func stringList(v any, field string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s must be an array of strings", ErrMalformedDecision, field)
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s must be an array of strings", ErrMalformedDecision, field)
		}
		out = append(out, s)
	}
	return out, nil
}

// validFor reads valid_for: a number of seconds ≥ 0. A fraction is cut
// off (a shorter life is always safe) and a huge value saturates; the cache
// caps every entry's life anyway.
func validFor(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%w: valid_for must be a number of seconds", ErrMalformedDecision)
	}
	if i, err := n.Int64(); err == nil {
		if i < 0 {
			return 0, fmt.Errorf("%w: valid_for %d is negative", ErrMalformedDecision, i)
		}
		return i, nil
	}
	f, err := n.Float64()
	if err != nil && !math.IsInf(f, 1) {
		return 0, fmt.Errorf("%w: valid_for %q is not a number", ErrMalformedDecision, n)
	}
	switch {
	case f < 0 || math.IsNaN(f):
		return 0, fmt.Errorf("%w: valid_for %s is negative", ErrMalformedDecision, n)
	case f >= math.MaxInt64:
		return math.MaxInt64, nil
	}
	return int64(f), nil
}

func nonNegativeInt(v any) (int64, error) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			if i < 0 {
				return 0, fmt.Errorf("%d is negative", i)
			}
			return i, nil
		}
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, fmt.Errorf("%q is not a number", n)
		}
	case float64:
		f = n
	case int64:
		f = float64(n)
	case int:
		f = float64(n)
	default:
		return 0, fmt.Errorf("want a number, got %T", v)
	}
	if f < 0 || f != math.Trunc(f) || f > math.MaxInt32*1000 {
		return 0, fmt.Errorf("%v is not a non-negative integer", f)
	}
	return int64(f), nil
}
