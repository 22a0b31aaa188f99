package pdp_test

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
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
	mfaWindow := pdp.Requirements{AMRAny: []string{"mfa"}, MaxAge: &window}
	fresh := pdp.Requirements{MaxAge: &window, FreshLogin: true}
	mfa := []any{"pwd", "otp", "mfa"}
	tests := []struct {
		name   string
		claims map[string]any
		req    pdp.Requirements
		nonce  string
		sub    string
		want   string // error code; "" accepts
	}{
		{"login during the step-up", map[string]any{"amr": mfa, "auth_time": now.Unix() - 10}, mfaWindow, "", "", ""},
		{"earlier MFA within the window (single sign-on)", map[string]any{"amr": mfa, "auth_time": now.Unix() - 120}, mfaWindow, "", "", ""},
		{"MFA older than the window", map[string]any{"amr": mfa, "auth_time": now.Unix() - 901}, mfaWindow, "", "", pdp.VerifyStaleAuthTime},
		{"MFA exactly max_age ago", map[string]any{"amr": mfa, "auth_time": now.Unix() - 900}, mfaWindow, "", "", ""},
		{"window without auth_time", map[string]any{"amr": mfa}, mfaWindow, "", "", pdp.VerifyMissingAuthTime},
		{"password only", map[string]any{"amr": []any{"pwd"}, "auth_time": now.Unix() - 5}, mfaWindow, "", "", pdp.VerifyInsufficient},
		{"acr meaning MFA", map[string]any{"acr": pdp.PAPEMultiFactor, "auth_time": now.Unix() - 5},
			pdp.Requirements{AMRAny: []string{"mfa"}, ACRValues: []string{pdp.PAPEMultiFactor}, MaxAge: &window}, "", "", ""},
		{"fresh login after the request", map[string]any{"auth_time": now.Unix() - 20}, fresh, "", "", ""},
		{"fresh login within the skew", map[string]any{"auth_time": requested.Unix() - 4}, fresh, "", "", ""},
		{"fresh login answered from the old session", map[string]any{"auth_time": now.Unix() - 120}, fresh, "", "", pdp.VerifyStaleAuthTime},
		{"max_age 0 is a fresh login", map[string]any{"auth_time": now.Unix() - 120}, pdp.Requirements{MaxAge: &zero}, "", "", pdp.VerifyStaleAuthTime},
		{"max_age 0 met by a new login", map[string]any{"auth_time": now.Unix() - 20}, pdp.Requirements{MaxAge: &zero}, "", "", ""},
		{"fresh login without auth_time", map[string]any{}, fresh, "", "", pdp.VerifyMissingAuthTime},
		{"auth_time far in the future", map[string]any{"amr": mfa, "auth_time": now.Unix() + 3600}, mfaWindow, "", "", pdp.VerifyInvalidToken},
		{"no requirement needs no auth_time", map[string]any{}, pdp.Requirements{}, "", "", ""},
		{"nonce matches", map[string]any{"nonce": "n-1"}, pdp.Requirements{}, "n-1", "", ""},
		{"nonce differs", map[string]any{"nonce": "n-2"}, pdp.Requirements{}, "n-1", "", pdp.VerifyNonceMismatch},
		{"nonce missing", map[string]any{}, pdp.Requirements{}, "n-1", "", pdp.VerifyNonceMismatch},
		{"another user", map[string]any{"sub": "mallory"}, pdp.Requirements{}, "", "alice", pdp.VerifySubjectMismatch},
		{"the same user", map[string]any{"sub": "alice"}, pdp.Requirements{}, "", "alice", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			facts, err := pdp.CheckProof(tc.claims, pdp.Proof{Nonce: tc.nonce, Subject: tc.sub, Requirements: tc.req,
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
		req   pdp.Requirements
		fresh bool
		sent  int64 // -1: none
	}{
		{"window", pdp.Requirements{MaxAge: &w}, false, 900},
		{"fresh_login", pdp.Requirements{MaxAge: &w, FreshLogin: true}, true, 0},
		{"max_age 0", pdp.Requirements{MaxAge: &zero}, true, 0},
		{"nothing", pdp.Requirements{}, false, -1},
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
