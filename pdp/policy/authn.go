package policy

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// NormalizeAuthn derives subject.authn from verified claims so that policies
// need no IdP knowledge. mfaACR are the acr values meaning MFA at the
// token's issuer. amr is a set (RFC 8176): a single string is accepted as a
// one-element set, non-string members are ignored. Age is only set with an
// auth_time, and is negative for an auth_time in the future, which policies
// treat as a deny beyond the allowed clock skew.
func NormalizeAuthn(claims map[string]any, mfaACR []string, now int64) *Authn {
	a := &Authn{Methods: AMRValues(claims["amr"])}
	a.ACR, _ = claims["acr"].(string)
	a.MFA = slices.Contains(a.Methods, "mfa") || (a.ACR != "" && slices.Contains(mfaACR, a.ACR))
	if t, ok := NumericClaim(claims["auth_time"]); ok {
		age := now - t
		a.AuthTime, a.Age = &t, &age
	}
	return a
}

// AMRValues reads an amr claim as a set (RFC 8176): a list of strings
// without duplicates or empty members, or a single string.
func AMRValues(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, m := range x {
			if s, ok := m.(string); ok && s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return slices.Compact(slices.Clone(x))
	case string:
		if x != "" {
			return []string{x}
		}
	}
	return []string{}
}

// NumericClaim reads an integral NumericDate claim (json.Number, float64 or an
// integer type). Fractions are truncated, as RFC 7519 allows them.
func NumericClaim(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
			return 0, false
		}
		return int64(f), true
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) || math.Abs(n) > 1e15 {
			return 0, false
		}
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case string:
		// Some IdPs have shipped auth_time as a string; accept only digits.
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}

// Satisfies reports whether authentication facts meet r at time now:
// any of AMRAny in the methods (or, for "mfa", an MFA acr), or the acr in
// ACRValues; and auth_time no older than MaxAge. An empty method/acr
// requirement is met by any authentication.
func (r Requirements) Satisfies(a *Authn, now int64) (bool, string) {
	if a == nil {
		return false, "no authentication facts"
	}
	if len(r.AMRAny) > 0 || len(r.ACRValues) > 0 {
		ok := a.ACR != "" && slices.Contains(r.ACRValues, a.ACR)
		for _, m := range r.AMRAny {
			if slices.Contains(a.Methods, m) || (m == "mfa" && a.MFA) {
				ok = true
				break
			}
		}
		if !ok {
			return false, "authentication methods or acr do not meet the requirement"
		}
	}
	if r.MaxAge != nil {
		if a.AuthTime == nil {
			return false, "no auth_time"
		}
		if now-*a.AuthTime > *r.MaxAge {
			return false, "authentication is older than max_age"
		}
	}
	return true, ""
}
