package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/storage"
)

// TestStepUpProofsAreAudited drives step-up verification through the wired
// server: a refused attempt, an accepted one (an IdP session two minutes
// old, within billing.view's window) and a replay each leave one stepup
// record linked to its decision, with the error code and the token's
// acr/amr/auth_time in the detail, and the trail still verifies.
func TestStepUpProofsAreAudited(t *testing.T) {
	idp := pdptest.NewIssuer(t)
	cfgFile := filepath.Join(t.TempDir(), "stepgate.yaml")
	err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(`issuers:
  - issuer: %s
    audiences: [%s, web-app]
    authorize:
      client_id: web-app
      redirect_uri: https://app.example/callback
`, idp.URL(), pdptest.DefaultAudience)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	e := testEnv(t)
	e["STEPGATE_CONFIG"] = cfgFile
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
	s := startServer(t, e)

	now := time.Now().Unix()
	login := idp.Mint(t, map[string]any{"sub": "alice", "aud": pdptest.DefaultAudience, "iat": now, "exp": now + 600,
		"auth_time": now - 3600, "amr": []string{"pwd"}})
	stepUp := func() (decisionID, txID, nonce string) {
		t.Helper()
		d := s.decide(t, testKey, `{"token":"`+login+`","action":"billing.view"}`)
		su, _ := d["step_up"].(map[string]any)
		if d["decision"] != "step_up" || su == nil || su["authorize_url"] == nil {
			t.Fatalf("decision: %v", d)
		}
		return d["decision_id"].(string), su["transaction_id"].(string), su["nonce"].(string)
	}
	idToken := func(nonce string) string {
		return idp.Mint(t, map[string]any{"sub": "alice", "aud": "web-app", "iat": now, "exp": now + 600, "nonce": nonce,
			"auth_time": now - 120, "amr": []string{"pwd", "otp", "mfa"}})
	}
	verify := func(txID, tok string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.decision+"/v1/stepup/verify",
			strings.NewReader(`{"transaction_id":"`+txID+`","id_token":"`+tok+`"}`))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	d1, tx1, _ := stepUp()
	if code, m := verify(tx1, idToken("forged")); code != http.StatusBadRequest || m["error"] != "nonce_mismatch" {
		t.Fatalf("forged nonce: %d %v", code, m)
	}
	d2, tx2, nonce2 := stepUp()
	if code, m := verify(tx2, idToken(nonce2)); code != http.StatusOK || m["verified"] != true {
		t.Fatalf("an MFA session two minutes old, within the 900 s window: %d %v", code, m)
	}
	if code, m := verify(tx2, idToken(nonce2)); code != http.StatusConflict || m["error"] != "transaction_used" {
		t.Fatalf("replay: %d %v", code, m)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	out, err := cli(t, e, "audit", "export", "--format", "ndjson", "--kind", storage.KindStepUp)
	if err != nil {
		t.Fatal(err)
	}
	type proof struct {
		Code     string    `json:"code"`
		AMR      []string  `json:"amr"`
		AuthTime time.Time `json:"auth_time"`
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r storage.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if r.ChainID == "" {
			continue // a signed checkpoint, which the export starts with
		}
		var p proof
		if err := json.Unmarshal(r.Detail, &p); err != nil {
			t.Fatalf("detail %q: %v", r.Detail, err)
		}
		if r.Outcome != "verified" && p.Code != r.Outcome {
			t.Errorf("refused record %s carries code %q", r.Outcome, p.Code)
		}
		// A replay is refused before the token is looked at.
		if checked := r.Outcome != "transaction_used"; checked && (p.AuthTime.Unix() != now-120 || len(p.AMR) != 3) {
			t.Errorf("record %s: proof %+v, want the token's amr and auth_time", r.Outcome, p)
		}
		got[r.Outcome] = r.DecisionID
	}
	want := map[string]string{"nonce_mismatch": d1, "verified": d2, "transaction_used": d2}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stepup records (outcome → decision) %v, want %v", got, want)
	}
	if out, err := cli(t, e, "audit", "verify"); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}
