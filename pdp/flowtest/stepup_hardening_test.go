package flowtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

// TestStepUpVerifyIsAsStrictAsTheDecisionAPI sends ID tokens that the
// decision API would refuse through POST /v1/stepup/verify: an access token
// (typ at+jwt) and logins or issue times in the future must not prove a
// step-up; an ID token typed application/jwt still does.
func TestStepUpVerifyIsAsStrictAsTheDecisionAPI(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]any // merged into the ID token's claims
		opts   []pdptest.MintOption
		want   string // "" accepts
	}{
		{name: "an ID token typed application/jwt", opts: []pdptest.MintOption{pdptest.WithType("application/jwt")}},
		{name: "an RFC 9068 access token", opts: []pdptest.MintOption{pdptest.WithType("at+jwt")}, want: trust.VerifyInvalidToken},
		{name: "typ application/at+jwt", opts: []pdptest.MintOption{pdptest.WithType("application/at+jwt")}, want: trust.VerifyInvalidToken},
		{name: "auth_time a year in the future", claims: map[string]any{"auth_time": time.Now().AddDate(1, 0, 0).Unix()}, want: trust.VerifyInvalidToken},
		{name: "auth_time beyond the leeway", claims: map[string]any{"auth_time": time.Now().Add(trust.DefaultLeeway + time.Minute).Unix()}, want: trust.VerifyInvalidToken},
		{name: "iat a year in the future", claims: map[string]any{"iat": time.Now().AddDate(1, 0, 0).Unix()}, want: trust.VerifyInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMintedEnv(t)
			d := m.e.decide(t, m.login(t, time.Hour, "idp-sid-1"), "billing.view", "", nil)
			now := m.e.clock.Now()
			claims := map[string]any{"sub": "alice", "aud": appID, "nonce": d.StepUp.Nonce,
				"amr": []string{"pwd", "otp", "mfa"}, "auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
			for k, v := range tc.claims {
				claims[k] = v
			}
			code, v := m.e.verify(t, d.StepUp.TransactionID, m.Mint(t, claims, tc.opts...), "s1")
			if tc.want == "" {
				if code != http.StatusOK || !v.Verified {
					t.Fatalf("verify: HTTP %d %+v, want verified", code, v)
				}
				return
			}
			if code/100 != 4 || v.Verified || v.Error != tc.want {
				t.Fatalf("verify: HTTP %d %+v, want a 4xx %s", code, v, tc.want)
			}
			if _, ok := m.e.flows.find(flow.KindStepUp, tc.want); !ok {
				t.Errorf("the refused verification was not audited")
			}
			if d := m.e.decide(t, m.login(t, time.Hour, "idp-sid-1"), "billing.view", "s1", nil); d.Outcome == "allow" {
				t.Fatal("the refused proof elevated the session")
			}
		})
	}
}

// TestStepUpTransactionIsBoundToItsClient: the call centre learns the
// billing service's transaction id and presents a valid ID token for it.
// It gets the answer an unknown id gets, the refusal is audited without
// the billing service's decision, and the billing service can still
// complete its step-up.
func TestStepUpTransactionIsBoundToItsClient(t *testing.T) {
	m := newMintedEnv(t)
	d := m.e.decide(t, m.login(t, time.Hour, "idp-sid-1"), "billing.view", "", nil)
	now := m.e.clock.Now()
	idToken := m.Mint(t, map[string]any{"sub": "alice", "aud": appID, "nonce": d.StepUp.Nonce,
		"amr": []string{"pwd", "otp", "mfa"}, "auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})

	verifyAs := func(key, txID string) (int, verifyAnswer) {
		var v verifyAnswer
		code := m.e.call(t, http.MethodPost, "/v1/stepup/verify", key, map[string]any{"transaction_id": txID, "id_token": idToken}, &v)
		return code, v
	}
	unknownCode, unknown := verifyAs(trustedKey, "AAAAAAAAAAAAAAAAAAAAAA")
	foreignCode, foreign := verifyAs(trustedKey, d.StepUp.TransactionID)
	if foreignCode != unknownCode || foreign.Error != unknown.Error || foreign.Description != unknown.Description ||
		foreign.Verified || foreign.Error != trust.VerifyUnknownTransaction {
		t.Fatalf("another client's transaction: HTTP %d %+v; an unknown one: HTTP %d %+v; want the same unknown_transaction answer",
			foreignCode, foreign, unknownCode, unknown)
	}

	var refusal *flow.Event
	m.e.flows.mu.Lock()
	for _, ev := range m.e.flows.events {
		if ev.Kind == flow.KindStepUp && ev.StepUpID == d.StepUp.TransactionID {
			refusal = &ev
		}
	}
	m.e.flows.mu.Unlock()
	switch {
	case refusal == nil:
		t.Fatal("the foreign client's attempt was not audited")
	case refusal.ClientID != "call-centre" || refusal.Outcome != trust.VerifyUnknownTransaction || refusal.Code != trust.VerifyUnknownTransaction:
		t.Fatalf("audit record %+v, want the call centre's unknown_transaction refusal", *refusal)
	case refusal.DecisionID != "" || refusal.Subject != "" || refusal.Action != "":
		t.Fatalf("audit record %+v tells the foreign attempt about the billing service's decision", *refusal)
	}

	code, v := m.e.verify(t, d.StepUp.TransactionID, idToken, "s1")
	if code != http.StatusOK || !v.Verified {
		t.Fatalf("the owner's verify after the foreign attempt: HTTP %d %+v, want verified", code, v)
	}
}
