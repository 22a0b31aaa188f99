package pdphttp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

func TestDecisionOutcomes(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now().Unix()
	fresh, stale := now-60, now-16*60
	tests := []struct {
		name    string
		body    map[string]any
		key     string
		want    policy.Outcome
		reason  string // substring of the first reason
		stepUp  bool
		ciba    bool
		invalid bool // www_authenticate invalid_token
	}{
		{name: "token fresh mfa allows billing.view", key: keyService, want: policy.Allow,
			body: map[string]any{"token": h.token(map[string]any{"amr": []string{"pwd", "mfa"}, "auth_time": fresh}), "action": "billing.view"}},
		{name: "token ES256 fresh mfa allows", key: keyService, want: policy.Allow,
			body: map[string]any{"token": h.token(map[string]any{"amr": []string{"mfa"}, "auth_time": fresh}, pdptest.WithES256()), "action": "billing.view"}},
		{name: "token stale mfa steps up", key: keyService, want: policy.StepUp, stepUp: true, reason: "within 900s",
			body: map[string]any{"token": h.token(map[string]any{"amr": []string{"pwd", "mfa"}, "auth_time": stale}), "action": "billing.view"}},
		{name: "token password only steps up", key: keyService, want: policy.StepUp, stepUp: true,
			body: map[string]any{"token": h.token(map[string]any{"amr": []string{"pwd"}, "auth_time": fresh}), "action": "billing.view"}},
		{name: "token without auth_time steps up", key: keyService, want: policy.StepUp, stepUp: true,
			body: map[string]any{"token": h.token(map[string]any{"amr": []string{"mfa"}}), "action": "billing.view"}},
		{name: "token call-centre payment goes ciba", key: keyService, want: policy.CIBA, ciba: true,
			body: map[string]any{"token": h.token(map[string]any{"amr": []string{"mfa"}, "auth_time": fresh}), "action": "billing.pay",
				"context": map[string]any{"channel": "call_center", "amount": 500}}},
		{name: "claims high amount goes ciba", key: keyTrusted, want: policy.CIBA, ciba: true,
			body: map[string]any{"claims": map[string]any{"sub": "u1", "amr": []string{"mfa"}, "auth_time": fresh}, "action": "billing.pay",
				"context": map[string]any{"channel": "web", "amount": 120000, "currency": "JPY"}}},
		{name: "claims small web payment allows", key: keyTrusted, want: policy.Allow,
			body: map[string]any{"claims": map[string]any{"sub": "u1", "amr": []string{"mfa"}, "auth_time": fresh}, "action": "billing.pay",
				"context": map[string]any{"channel": "web", "amount": 1200}}},
		{name: "claims unknown action denies", key: keyTrusted, want: policy.Deny,
			body: map[string]any{"claims": map[string]any{"sub": "u1", "amr": []string{"mfa"}, "auth_time": fresh}, "action": "admin.nuke"}},
		{name: "claims auth_time in the future denies", key: keyTrusted, want: policy.Deny,
			body: map[string]any{"claims": map[string]any{"sub": "u1", "amr": []string{"mfa"}, "auth_time": now + 3600}, "action": "billing.view"}},
		{name: "claims keycloak-style mfa acr allows", key: keyTrusted, want: policy.Allow,
			body: map[string]any{"claims": map[string]any{"sub": "u1", "acr": trust.PAPEMultiFactor, "auth_time": fresh}, "action": "billing.view"}},
		{name: "expired token denies", key: keyService, want: policy.Deny, invalid: true, reason: "expired",
			body: map[string]any{"token": h.token(map[string]any{"exp": now - 3600, "iat": now - 7200}), "action": "billing.view"}},
		{name: "not yet valid token denies", key: keyService, want: policy.Deny, invalid: true, reason: "not_yet_valid",
			body: map[string]any{"token": h.token(map[string]any{"nbf": now + 3600}), "action": "billing.view"}},
		{name: "wrong issuer denies", key: keyService, want: policy.Deny, invalid: true, reason: "unknown_issuer",
			body: map[string]any{"token": pdptest.NewIssuer(t).Mint(t, map[string]any{"sub": "x", "aud": pdptest.DefaultAudience, "exp": now + 60}), "action": "billing.view"}},
		{name: "wrong audience denies", key: keyService, want: policy.Deny, invalid: true, reason: "wrong_audience",
			body: map[string]any{"token": h.token(map[string]any{"aud": "https://other.example"}), "action": "billing.view"}},
		{name: "unknown kid denies", key: keyService, want: policy.Deny, invalid: true, reason: "bad_signature",
			body: map[string]any{"token": h.token(nil, pdptest.WithUnpublishedKey()), "action": "billing.view"}},
		{name: "alg none denies", key: keyService, want: policy.Deny, invalid: true, reason: "unsupported_alg",
			body: map[string]any{"token": h.token(nil, pdptest.WithAlgNone()), "action": "billing.view"}},
		{name: "HS256 with the public key denies", key: keyService, want: policy.Deny, invalid: true, reason: "unsupported_alg",
			body: map[string]any{"token": h.token(nil, pdptest.WithHS256PublicKey()), "action": "billing.view"}},
		{name: "truncated token denies", key: keyService, want: policy.Deny, invalid: true,
			body: map[string]any{"token": h.token(nil)[:40], "action": "billing.view"}},
		{name: "garbage token denies", key: keyService, want: policy.Deny, invalid: true, reason: "malformed",
			body: map[string]any{"token": "not.a.jwt", "action": "billing.view"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := h.decide(tc.key, tc.body)
			if got := policy.Outcome(d["decision"].(string)); got != tc.want {
				t.Fatalf("decision = %s, want %s; reasons %v", got, tc.want, d["reasons"])
			}
			reasons, _ := d["reasons"].([]any)
			if tc.reason != "" && (len(reasons) == 0 || !strings.Contains(reasons[0].(string), tc.reason)) {
				t.Errorf("reasons %v do not mention %q", reasons, tc.reason)
			}
			if _, ok := d["step_up"]; ok != tc.stepUp {
				t.Errorf("step_up present = %v, want %v", ok, tc.stepUp)
			}
			if _, ok := d["ciba"]; ok != tc.ciba {
				t.Errorf("ciba present = %v, want %v", ok, tc.ciba)
			}
			wa, _ := d["www_authenticate"].(string)
			if got := strings.HasPrefix(wa, `Bearer error="invalid_token"`); got != tc.invalid {
				t.Errorf("www_authenticate = %q, want invalid_token %v", wa, tc.invalid)
			}
			if d["decision_id"] == "" || d["policy_revision"] == nil {
				t.Errorf("decision_id/policy_revision missing: %v", d)
			}
		})
	}
}

func TestHugeTokenDeniesWithoutPanic(t *testing.T) {
	h := newHarness(t, withMaxBody(4<<20))
	big := strings.Repeat("A", 1<<20)
	d := h.decide(keyService, map[string]any{"token": big + "." + big + ".sig", "action": "billing.view"})
	if d["decision"] != "deny" || !strings.Contains(d["reasons"].([]any)[0].(string), "too_large") {
		t.Fatalf("1 MB token: %v", d["reasons"])
	}
}

func TestStepUpAnswer(t *testing.T) {
	h := newHarness(t)
	tok := h.token(map[string]any{"amr": []string{"pwd"}, "auth_time": h.clock.Now().Unix() - 30, "email": "alice@example.com"})
	d := h.decide(keyService, map[string]any{"token": tok, "action": "billing.view", "return_to": "https://app.example/billing/inv"})
	su := d["step_up"].(map[string]any)
	u, err := url.Parse(su["authorize_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != h.idp.URL()+"/authorize" {
		t.Errorf("authorize endpoint = %s", got)
	}
	q := u.Query()
	want := map[string]string{
		"response_type": "code", "client_id": appClient, "redirect_uri": "https://app.example/callback",
		"scope": "openid profile", "max_age": "900", "code_challenge_method": "S256",
		"state": su["state"].(string), "nonce": su["nonce"].(string), "login_hint": "alice@example.com",
		"code_challenge": oauth2.S256ChallengeFromVerifier(su["code_verifier"].(string)),
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Has("prompt") {
		t.Errorf("authorize URL relies on prompt: %s", u)
	}
	if q.Get("acr_values") != trust.PAPEMultiFactor {
		t.Errorf("acr_values = %q", q.Get("acr_values"))
	}
	for _, k := range []string{"state", "nonce"} {
		if len(q.Get(k)) < 22 { // 128 bits base64url
			t.Errorf("%s too short: %q", k, q.Get(k))
		}
	}
	if v := su["code_verifier"].(string); len(v) < 43 || len(v) > 128 {
		t.Errorf("code_verifier length %d", len(v))
	}
	wa := su["www_authenticate"].(string)
	for _, part := range []string{`Bearer error="insufficient_user_authentication"`, `error_description="billing.view needs`,
		`acr_values="` + trust.PAPEMultiFactor + `"`, `max_age="900"`} {
		if !strings.Contains(wa, part) {
			t.Errorf("www_authenticate %q lacks %q", wa, part)
		}
	}
	req := d["requirements"].(map[string]any)
	if req["max_age"].(float64) != 900 || req["amr_any"].([]any)[0] != "mfa" {
		t.Errorf("requirements = %v", req)
	}
	tx, ok := h.txs.Get(su["transaction_id"].(string))
	if !ok || tx.ReturnTo != "https://app.example/billing/inv" || tx.Nonce != q.Get("nonce") || tx.Subject != "auth0|alice" {
		t.Errorf("stored transaction = %+v", tx)
	}
	if _, ok := d["ciba"]; ok {
		t.Error("ciba present on a step_up answer")
	}
	// The audited input never carries the raw token or redacted claims.
	for _, ev := range h.audit.Events() {
		if strings.Contains(string(ev.Input), tok) || strings.Contains(string(ev.Input), "alice@example.com") {
			t.Errorf("audit input leaks the token or a redacted claim: %s", ev.Input)
		}
	}
}

func TestCIBAAnswerDialects(t *testing.T) {
	for _, tc := range []struct {
		dialect trust.Dialect
		hint    func(h *harness) string
	}{
		{trust.DialectAuth0, func(h *harness) string {
			return `{"format":"iss_sub","iss":"` + h.idp.URL() + `","sub":"auth0|alice"}`
		}},
		{trust.DialectKeycloak, func(*harness) string { return "alice" }},
		{trust.DialectGeneric, func(*harness) string { return "auth0|alice" }},
	} {
		t.Run(string(tc.dialect), func(t *testing.T) {
			h := newHarness(t, withDialect(tc.dialect))
			tok := h.token(map[string]any{"amr": []string{"mfa"}, "auth_time": h.clock.Now().Unix(), "preferred_username": "alice"})
			d := h.decide(keyService, map[string]any{"token": tok, "action": "billing.pay", "context": map[string]any{"channel": "pos"}})
			if d["decision"] != "ciba" {
				t.Fatalf("decision %v: %v", d["decision"], d["reasons"])
			}
			req := d["ciba"].(map[string]any)["request"].(map[string]any)
			if req["login_hint"] != tc.hint(h) {
				t.Errorf("login_hint = %v, want %v", req["login_hint"], tc.hint(h))
			}
			msg := req["binding_message"].(string)
			if len(msg) < 1 || len(msg) > 20 || strings.Trim(msg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+#-") != "" {
				t.Errorf("binding_message %q is not portable", msg)
			}
			if req["scope"] != "openid" || req["requested_expiry"].(float64) != 300 {
				t.Errorf("ciba request = %v", req)
			}
		})
	}
}

func TestAuditFailureFailsClosed(t *testing.T) {
	h := newHarness(t)
	h.audit.fail = http.ErrHandlerTimeout
	d := h.decide(keyTrusted, map[string]any{"claims": map[string]any{"sub": "u1", "amr": []string{"mfa"}, "auth_time": h.clock.Now().Unix()},
		"action": "billing.view"})
	if d["decision"] != "deny" || !strings.Contains(d["reasons"].([]any)[0].(string), "audit_unavailable") {
		t.Fatalf("audit failure answered %v %v", d["decision"], d["reasons"])
	}
}

func TestBatchKeepsOrder(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now().Unix()
	claims := map[string]any{"sub": "u1", "amr": []string{"mfa"}, "auth_time": now - 10}
	r := h.post("/v1/decisions", keyTrusted, map[string]any{"requests": []any{
		map[string]any{"claims": claims, "action": "billing.view"},
		map[string]any{"claims": claims, "action": "nope"},
		map[string]any{"claims": claims, "action": "billing.pay", "context": map[string]any{"channel": "pos"}},
	}})
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	ds := r.json(t)["decisions"].([]any)
	var got []string
	for _, d := range ds {
		got = append(got, d.(map[string]any)["decision"].(string))
	}
	if strings.Join(got, ",") != "allow,deny,ciba" {
		t.Fatalf("batch decisions = %v", got)
	}
	if n := len(h.audit.Events()); n != 3 {
		t.Errorf("audited %d events, want 3", n)
	}
}

func TestStepUpACRRequestModes(t *testing.T) {
	for _, tc := range []struct {
		dialect    trust.Dialect
		mode       string
		acrValues  bool
		claimsParm bool
	}{
		{trust.DialectGeneric, "", true, false},
		{trust.DialectAuth0, "", true, false},
		{trust.DialectKeycloak, "", false, true},
		{trust.DialectGeneric, trust.ACRRequestClaims, false, true},
		{trust.DialectGeneric, trust.ACRRequestBoth, true, true},
	} {
		t.Run(string(tc.dialect)+"/"+tc.mode, func(t *testing.T) {
			h := newHarness(t, withDialect(tc.dialect), func(ic *trust.IssuerConfig, _ *pdphttp.Config) {
				ic.ACRRequest = tc.mode
				if tc.dialect == trust.DialectKeycloak {
					ic.MFAACRValues = []string{"gold"}
				}
			})
			tok := h.token(map[string]any{"amr": []string{"pwd"}, "auth_time": h.clock.Now().Unix()})
			d := h.decide(keyService, map[string]any{"token": tok, "action": "billing.view"})
			u, err := url.Parse(d["step_up"].(map[string]any)["authorize_url"].(string))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if q.Has("acr_values") != tc.acrValues || q.Has("claims") != tc.claimsParm {
				t.Fatalf("acr_values %v claims %v in %s", q.Has("acr_values"), q.Has("claims"), u)
			}
			if tc.claimsParm && !strings.Contains(q.Get("claims"), `"essential":true`) {
				t.Errorf("claims %s is not essential", q.Get("claims"))
			}
		})
	}
}
