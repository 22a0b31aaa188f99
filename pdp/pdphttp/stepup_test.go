package pdphttp_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

// startStepUp gets a step_up answer for billing.view and returns its
// transaction id and nonce.
func startStepUp(t *testing.T, h *harness, key string) (txID, nonce string) {
	t.Helper()
	txID, nonce, _ = startStepUpFor(t, h, key, "billing.view")
	return txID, nonce
}

// startStepUpFor gets a step_up answer for action with a password login
// two hours old and returns its transaction id, nonce and decision id.
func startStepUpFor(t *testing.T, h *harness, key, action string) (txID, nonce, decisionID string) {
	t.Helper()
	tok := h.token(map[string]any{"amr": []string{"pwd"}, "auth_time": h.clock.Now().Unix() - 7200})
	d := h.decide(key, map[string]any{"token": tok, "action": action})
	su, ok := d["step_up"].(map[string]any)
	if !ok {
		t.Fatalf("no step_up: %v", d)
	}
	return su["transaction_id"].(string), su["nonce"].(string), d["decision_id"].(string)
}

// idToken mints what the IdP returns after the step-up.
func idToken(h *harness, claims map[string]any, opts ...pdptest.MintOption) string {
	now := h.clock.Now().Unix()
	base := map[string]any{"sub": "auth0|alice", "aud": appClient, "iat": now, "exp": now + 300,
		"auth_time": now, "amr": []string{"pwd", "otp", "mfa"}}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	return h.idp.Mint(h.t, base, opts...)
}

func TestStepUpVerify(t *testing.T) {
	tests := []struct {
		name    string
		claims  func(nonce string, issued int64) map[string]any
		advance time.Duration // clock moves before verify
		key     string
		status  int
		code    string
	}{
		{name: "fresh mfa login verifies", status: 200,
			claims: func(n string, at int64) map[string]any { return map[string]any{"nonce": n, "auth_time": at + 20} }},
		{name: "wrong nonce", status: 400, code: "nonce_mismatch",
			claims: func(string, int64) map[string]any { return map[string]any{"nonce": "forged"} }},
		{name: "missing nonce", status: 400, code: "nonce_mismatch",
			claims: func(string, int64) map[string]any { return map[string]any{} }},
		{name: "earlier login within max_age (single sign-on) verifies", status: 200,
			claims: func(n string, at int64) map[string]any { return map[string]any{"nonce": n, "auth_time": at - 120} }},
		{name: "auth_time far in the future", status: 400, code: "invalid_token",
			claims: func(n string, at int64) map[string]any { return map[string]any{"nonce": n, "auth_time": at + 3600} }},
		{name: "old auth_time (max_age stripped)", status: 403, code: "stale_auth_time",
			claims: func(n string, at int64) map[string]any { return map[string]any{"nonce": n, "auth_time": at - 3600} }},
		{name: "no auth_time", status: 403, code: "missing_auth_time",
			claims: func(n string, _ int64) map[string]any { return map[string]any{"nonce": n, "auth_time": nil} }},
		{name: "password only", status: 403, code: "insufficient_authentication",
			claims: func(n string, at int64) map[string]any {
				return map[string]any{"nonce": n, "auth_time": at + 5, "amr": []string{"pwd"}}
			}},
		{name: "mfa acr without amr", status: 200,
			claims: func(n string, at int64) map[string]any {
				return map[string]any{"nonce": n, "auth_time": at + 5, "amr": nil, "acr": "http://schemas.openid.net/pape/policies/2007/06/multi-factor"}
			}},
		{name: "another user", status: 403, code: "subject_mismatch",
			claims: func(n string, at int64) map[string]any {
				return map[string]any{"nonce": n, "auth_time": at + 5, "sub": "auth0|mallory"}
			}},
		{name: "token for another client", status: 400, code: "invalid_token",
			claims: func(n string, at int64) map[string]any {
				return map[string]any{"nonce": n, "auth_time": at + 5, "aud": pdptest.DefaultAudience}
			}},
		{name: "expired transaction", status: 410, code: "transaction_expired", advance: 11 * time.Minute,
			claims: func(n string, at int64) map[string]any { return map[string]any{"nonce": n, "auth_time": at + 600} }},
		{name: "transaction of another client", status: 404, code: "unknown_transaction", key: keyTrusted,
			claims: func(n string, at int64) map[string]any { return map[string]any{"nonce": n, "auth_time": at + 5} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			txID, nonce := startStepUp(t, h, keyService)
			issued := h.clock.Now().Unix()
			h.clock.Advance(tc.advance + 10*time.Second)
			tok := idToken(h, tc.claims(nonce, issued))
			key := keyService
			if tc.key != "" {
				key = tc.key
			}
			r := h.post("/v1/stepup/verify", key, map[string]any{"transaction_id": txID, "id_token": tok})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			wantVerifyRecord(t, h, tc.code)
			m := r.json(t)
			if tc.status == 200 {
				if m["verified"] != true || m["claims"].(map[string]any)["sub"] != "auth0|alice" {
					t.Fatalf("verify answer %v", m)
				}
				return
			}
			if m["verified"] != false || m["error"] != tc.code || m["error_description"] == "" {
				t.Fatalf("verify answer %v, want error %s", m, tc.code)
			}
		})
	}
}

func TestStepUpTransactionIsSingleUse(t *testing.T) {
	h := newHarness(t)
	txID, nonce := startStepUp(t, h, keyService)
	h.clock.Advance(30 * time.Second)
	tok := idToken(h, map[string]any{"nonce": nonce})
	body := map[string]any{"transaction_id": txID, "id_token": tok}
	if r := h.post("/v1/stepup/verify", keyService, body); r.status != http.StatusOK {
		t.Fatalf("first verify %d: %s", r.status, r.body)
	}
	r := h.post("/v1/stepup/verify", keyService, body)
	if r.status != http.StatusConflict || r.json(t)["error"] != "transaction_used" {
		t.Fatalf("reuse: %d %s", r.status, r.body)
	}
	r = h.post("/v1/stepup/verify", keyService, map[string]any{"transaction_id": "nope", "id_token": tok})
	if r.status != http.StatusNotFound || r.json(t)["error"] != "unknown_transaction" {
		t.Fatalf("unknown: %d %s", r.status, r.body)
	}
	r = h.post("/v1/stepup/verify", keyService, map[string]any{"transaction_id": txID})
	if r.status != http.StatusBadRequest || r.json(t)["error"] != "invalid_request" {
		t.Fatalf("missing token: %d %s", r.status, r.body)
	}
	// The verified token now meets the policy.
	d := h.decide(keyService, map[string]any{"token": idTokenAsAccess(h, nonce), "action": "billing.view"})
	if d["decision"] != "allow" {
		t.Fatalf("after step-up: %v %v", d["decision"], d["reasons"])
	}
}

func idTokenAsAccess(h *harness, nonce string) string {
	return idToken(h, map[string]any{"nonce": nonce, "aud": pdptest.DefaultAudience})
}

// wantVerifyRecord checks that the one verify attempt of a test left exactly
// one step-up audit record with its outcome ("verified" or the error code),
// linked to the decision unless the transaction was not the caller's.
func wantVerifyRecord(t *testing.T, h *harness, code string) {
	t.Helper()
	evs := h.flows.Events()
	if len(evs) != 1 || evs[0].Kind != flow.KindStepUp {
		t.Fatalf("flow events %+v, want one step-up record", evs)
	}
	ev, want := evs[0], code
	if want == "" {
		want = "verified"
	}
	if ev.Outcome != want || ev.Code != code || len(ev.Reasons) != 1 || ev.StepUpID == "" {
		t.Errorf("record %+v, want outcome %s", ev, want)
	}
	if linked := ev.DecisionID != "" && ev.Action == "billing.view"; linked == (code == trust.VerifyUnknownTransaction) {
		t.Errorf("record %+v: decision link %v for code %q", ev, linked, code)
	}
	if code == "" && (ev.Proof == nil || ev.Proof.AuthTime.IsZero() || (len(ev.Proof.AMR) == 0 && ev.Proof.ACR == "")) {
		t.Errorf("a verified step-up's record has no proof facts: %+v", ev.Proof)
	}
}

// TestStepUpVerifyFreshLogin: profile.update is a re-authentication in the
// default bundle, so its step-up asks the IdP for max_age=0 (prompt=login
// only as a hint) and verify refuses an earlier login, even one within the
// window, that a billing.view step-up would accept.
func TestStepUpVerifyFreshLogin(t *testing.T) {
	tests := []struct {
		name     string
		action   string
		authTime int64 // relative to the step-up request
		status   int
		code     string
	}{
		{"re-authentication after the request", "profile.update", 20, 200, ""},
		{"an earlier login within max_age", "profile.update", -60, 403, trust.VerifyStaleAuthTime},
		{"the same earlier login for a freshness window", "billing.view", -60, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tok := h.token(map[string]any{"amr": []string{"pwd"}, "auth_time": h.clock.Now().Unix() - 7200})
			d := h.decide(keyService, map[string]any{"token": tok, "action": tc.action})
			su := d["step_up"].(map[string]any)
			u, err := url.Parse(su["authorize_url"].(string))
			if err != nil {
				t.Fatal(err)
			}
			fresh := tc.action == "profile.update"
			if q := u.Query(); fresh != (q.Get("max_age") == "0" && q.Get("prompt") == "login") {
				t.Fatalf("authorize URL %s for a fresh login %v", u, fresh)
			}
			req, _ := d["requirements"].(map[string]any)
			if got, _ := req["fresh_login"].(bool); got != fresh {
				t.Fatalf("requirements %v, fresh_login want %v", req, fresh)
			}
			issued := h.clock.Now().Unix()
			h.clock.Advance(30 * time.Second)
			idt := idToken(h, map[string]any{"nonce": su["nonce"], "auth_time": issued + tc.authTime})
			r := h.post("/v1/stepup/verify", keyService, map[string]any{"transaction_id": su["transaction_id"], "id_token": idt})
			if r.status != tc.status || (tc.code != "" && r.json(t)["error"] != tc.code) {
				t.Fatalf("verify: %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}
}

// TestStepUpVerifyFailsClosedWithoutRecord: a step-up that passes every
// check but cannot be recorded is not reported as verified.
func TestStepUpVerifyFailsClosedWithoutRecord(t *testing.T) {
	h := newHarness(t)
	txID, nonce := startStepUp(t, h, keyService)
	h.clock.Advance(10 * time.Second)
	h.flows.fail = errors.New("disk full")
	r := h.post("/v1/stepup/verify", keyService, map[string]any{"transaction_id": txID, "id_token": idToken(h, map[string]any{"nonce": nonce})})
	if r.status/100 == 2 || r.json(t)["verified"] != false || r.json(t)["error"] != trust.VerifyUnavailable {
		t.Fatalf("verify without a record: %d %s", r.status, r.body)
	}
}
