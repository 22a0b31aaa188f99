package authzentest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

// TestAuthZENStepUpAndCIBAContext runs the default step-up policy behind
// AuthZEN with real tokens in subject.properties.token: allow is a bare
// true, step_up and ciba are false with what the user must do in context,
// and a rejected token carries the invalid_token challenge.
func TestAuthZENStepUpAndCIBAContext(t *testing.T) {
	idp := pdptest.NewIssuer(t)
	ic := idp.Config()
	ic.Authorize = &trust.AuthorizeConfig{ClientID: "web-app", RedirectURI: "https://app.example/callback", Scopes: []string{"openid"}}
	srv := startAuthZEN(t, fsRevision(t, policies.Bundle()), serverOptions{issuers: []trust.IssuerConfig{ic}})
	now := time.Now().Unix()
	token := func(amr []string, age int64) string {
		return idp.Mint(t, map[string]any{"sub": "user-1", "aud": pdptest.DefaultAudience, "exp": now + 600,
			"iat": now - age, "auth_time": now - age, "amr": amr})
	}
	eval := func(tok, action string, ctx map[string]any) map[string]any {
		return map[string]any{
			"subject":  map[string]any{"type": "user", "id": "user-1", "properties": map[string]any{"token": tok}},
			"action":   map[string]any{"name": action},
			"resource": map[string]any{"type": "invoice", "id": "inv-1"},
			"context":  ctx,
		}
	}
	tests := []struct {
		name  string
		req   map[string]any
		exact string            // whole body, when set
		want  map[string]string // context member -> substring of its JSON
	}{
		{name: "fresh mfa allows", req: eval(token([]string{"pwd", "mfa"}, 60), "billing.view", nil), exact: `{"decision":true}`},
		{name: "password only steps up", req: eval(token([]string{"pwd"}, 60), "billing.view", nil), want: map[string]string{
			"outcome": `"step_up"`, "amr_any": `["mfa"]`, "max_age": `900`, "acr_values": `multi-factor`,
			"authorize_url": `/authorize?`, "www_authenticate": `insufficient_user_authentication`,
			"transaction_id": `"`, "code_verifier": `"`, "decision_id": `"`,
		}},
		{name: "call centre payment goes ciba", req: eval(token([]string{"pwd", "mfa"}, 60), "billing.pay", map[string]any{"channel": "call_center"}), want: map[string]string{
			"outcome": `"ciba"`, "ciba": `"login_hint"`, "decision_id": `"`,
		}},
		{name: "bad token denies with invalid_token", req: eval("not.a.jwt", "billing.view", nil), want: map[string]string{
			"outcome": `"deny"`, "www_authenticate": `invalid_token`,
		}},
		{name: "unknown action is a plain deny", req: eval(token([]string{"pwd", "mfa"}, 60), "reports.delete", nil), exact: `{"decision":false}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := srv.post(t, pdphttp.PathEvaluation, tc.req)
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			if tc.exact != "" {
				if got := compact(t, res.body); got != tc.exact {
					t.Fatalf("body %s, want %s", got, tc.exact)
				}
				return
			}
			m := res.json(t)
			if string(m["decision"]) != "false" {
				t.Errorf("decision %s, want false", m["decision"])
			}
			var ctx map[string]json.RawMessage
			if err := json.Unmarshal(m["context"], &ctx); err != nil {
				t.Fatalf("context in %s: %v", res.body, err)
			}
			for k, sub := range tc.want {
				if !strings.Contains(string(ctx[k]), sub) {
					t.Errorf("context.%s = %s, want it to contain %s", k, ctx[k], sub)
				}
			}
		})
	}
	for _, ev := range srv.audit.recorded() {
		if strings.Contains(string(ev.Input), "not.a.jwt") || strings.Contains(string(ev.Input), `"token"`) {
			t.Errorf("the user token reached the audit trail: %s", ev.Input)
		}
	}
}
