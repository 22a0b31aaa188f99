package trust_test

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// TestCheckProof is the one check for returned ID tokens (step-up, CIBA,
// the admin UI's sign-in): a freshness window accepts an earlier login that
// is still within max_age now — the single sign-on case that used to loop —
// and only a fresh login demands an auth_time after the request.
func TestCheckProof(t *testing.T) {
	now := time.Unix(1_763_770_000, 0)
	requested := now.Add(-30 * time.Second)
	window := int64(900)
	zero := int64(0)
	mfaWindow := policy.Requirements{AMRAny: []string{"mfa"}, MaxAge: &window}
	fresh := policy.Requirements{MaxAge: &window, FreshLogin: true}
	mfa := []any{"pwd", "otp", "mfa"}
	tests := []struct {
		name   string
		claims map[string]any
		req    policy.Requirements
		nonce  string
		sub    string
		want   string // error code; "" accepts
	}{
		{"login during the step-up", map[string]any{"amr": mfa, "auth_time": now.Unix() - 10}, mfaWindow, "", "", ""},
		{"earlier MFA within the window (single sign-on)", map[string]any{"amr": mfa, "auth_time": now.Unix() - 120}, mfaWindow, "", "", ""},
		{"MFA older than the window", map[string]any{"amr": mfa, "auth_time": now.Unix() - 901}, mfaWindow, "", "", trust.VerifyStaleAuthTime},
		{"MFA exactly max_age ago", map[string]any{"amr": mfa, "auth_time": now.Unix() - 900}, mfaWindow, "", "", ""},
		{"window without auth_time", map[string]any{"amr": mfa}, mfaWindow, "", "", trust.VerifyMissingAuthTime},
		{"password only", map[string]any{"amr": []any{"pwd"}, "auth_time": now.Unix() - 5}, mfaWindow, "", "", trust.VerifyInsufficient},
		{"acr meaning MFA", map[string]any{"acr": trust.PAPEMultiFactor, "auth_time": now.Unix() - 5},
			policy.Requirements{AMRAny: []string{"mfa"}, ACRValues: []string{trust.PAPEMultiFactor}, MaxAge: &window}, "", "", ""},
		{"fresh login after the request", map[string]any{"auth_time": now.Unix() - 20}, fresh, "", "", ""},
		{"fresh login within the skew", map[string]any{"auth_time": requested.Unix() - 4}, fresh, "", "", ""},
		{"fresh login answered from the old session", map[string]any{"auth_time": now.Unix() - 120}, fresh, "", "", trust.VerifyStaleAuthTime},
		{"max_age 0 is a fresh login", map[string]any{"auth_time": now.Unix() - 120}, policy.Requirements{MaxAge: &zero}, "", "", trust.VerifyStaleAuthTime},
		{"max_age 0 met by a new login", map[string]any{"auth_time": now.Unix() - 20}, policy.Requirements{MaxAge: &zero}, "", "", ""},
		{"fresh login without auth_time", map[string]any{}, fresh, "", "", trust.VerifyMissingAuthTime},
		{"auth_time far in the future", map[string]any{"amr": mfa, "auth_time": now.Unix() + 3600}, mfaWindow, "", "", trust.VerifyInvalidToken},
		{"auth_time a year in the future", map[string]any{"amr": mfa, "auth_time": now.AddDate(1, 0, 0).Unix()}, mfaWindow, "", "", trust.VerifyInvalidToken},
		{"auth_time beyond the leeway", map[string]any{"amr": mfa, "auth_time": now.Add(trust.DefaultLeeway + time.Second).Unix()}, mfaWindow, "", "", trust.VerifyInvalidToken},
		{"auth_time within the leeway", map[string]any{"amr": mfa, "auth_time": now.Add(trust.DefaultLeeway).Unix()}, mfaWindow, "", "", ""},
		{"iat a year in the future", map[string]any{"amr": mfa, "auth_time": now.Unix(), "iat": now.AddDate(1, 0, 0).Unix()}, mfaWindow, "", "", trust.VerifyInvalidToken},
		{"no requirement needs no auth_time", map[string]any{}, policy.Requirements{}, "", "", ""},
		{"nonce matches", map[string]any{"nonce": "n-1"}, policy.Requirements{}, "n-1", "", ""},
		{"nonce differs", map[string]any{"nonce": "n-2"}, policy.Requirements{}, "n-1", "", trust.VerifyNonceMismatch},
		{"nonce missing", map[string]any{}, policy.Requirements{}, "n-1", "", trust.VerifyNonceMismatch},
		{"another user", map[string]any{"sub": "mallory"}, policy.Requirements{}, "", "alice", trust.VerifySubjectMismatch},
		{"the same user", map[string]any{"sub": "alice"}, policy.Requirements{}, "", "alice", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			facts, err := trust.CheckProof(tc.claims, trust.Proof{Nonce: tc.nonce, Subject: tc.sub, Requirements: tc.req,
				RequestedAt: requested, Skew: 5 * time.Second}, now)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || err.Code != tc.want):
				t.Fatalf("got %v, want %s", err, tc.want)
			}
			if at, ok := tc.claims["auth_time"].(int64); ok && facts.AuthTime.Unix() != at {
				t.Errorf("facts.AuthTime = %v, want %d", facts.AuthTime, at)
			}
		})
	}
}

// TestFreshLoginRequirements: max_age 0 and fresh_login both ask the IdP
// for max_age=0; a window asks for itself.
func TestFreshLoginRequirements(t *testing.T) {
	w, zero := int64(900), int64(0)
	tests := []struct {
		name  string
		req   policy.Requirements
		fresh bool
		sent  int64 // -1: none
	}{
		{"window", policy.Requirements{MaxAge: &w}, false, 900},
		{"fresh_login", policy.Requirements{MaxAge: &w, FreshLogin: true}, true, 0},
		{"max_age 0", policy.Requirements{MaxAge: &zero}, true, 0},
		{"nothing", policy.Requirements{}, false, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.req.NeedsFreshLogin(); got != tc.fresh {
				t.Errorf("NeedsFreshLogin = %v", got)
			}
			m := tc.req.RequestMaxAge()
			if (m == nil) != (tc.sent < 0) || (m != nil && *m != tc.sent) {
				t.Errorf("RequestMaxAge = %v, want %d", m, tc.sent)
			}
		})
	}
}
