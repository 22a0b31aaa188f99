package admin_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/policy"
)

func TestIsDecisionRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"request with claims", `{"claims":{"sub":"a"},"action":"billing.view","resource":{"type":"invoice"},"context":{}}`, true},
		{"request with a token", `{"token":"eyJ","action":"billing.view"}`, true},
		{"request without action", `{"claims":{"sub":"a"}}`, true},
		{"policy input", `{"subject":{"claims":{"sub":"a"}},"action":{"name":"billing.view"}}`, false},
		{"policy input without action", `{"subject":{"type":"user"}}`, false},
		{"claims beside a subject", `{"subject":{},"claims":{}}`, false},
		{"not JSON", `{nope`, false},
		{"an array", `[]`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := admin.IsDecisionRequest([]byte(tc.body)); got != tc.want {
				t.Errorf("IsDecisionRequest(%s) = %v, want %v", tc.body, got, tc.want)
			}
		})
	}
}

func TestRequestInput(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	in, err := admin.RequestInput(&pdp.Request{Claims: map[string]any{"sub": "alice", "amr": []any{"pwd", "mfa"}, "auth_time": float64(now.Unix() - 60)},
		Action: "billing.view", Resource: policy.Resource{Type: "invoice", ID: "inv_1"}, Context: map[string]any{"channel": "web"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if in.Subject.ID != "alice" || in.Subject.Type != "user" || in.Action.Name != "billing.view" || in.Resource.ID != "inv_1" ||
		in.Now != now.Unix() || in.Client.ID != admin.PlaygroundClient || in.Context["channel"] != "web" {
		t.Errorf("input %+v", in)
	}
	if a := in.Subject.Authn; a == nil || !a.MFA || a.Age == nil || *a.Age != 60 {
		t.Errorf("authn %+v, want MFA 60 s ago", a)
	}
	for name, req := range map[string]*pdp.Request{
		"token":      {Token: "eyJ", Action: "billing.view"},
		"no subject": {Claims: map[string]any{}, Action: "billing.view"},
		"no action":  {Claims: map[string]any{"sub": "a"}},
		"bad action": {Claims: map[string]any{"sub": "a"}, Action: "Billing View"},
	} {
		if _, err := admin.RequestInput(req, now); !errors.Is(err, admin.ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", name, err)
		}
	}
}
