package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/storage"
)

// TestCIBARunByStepgate drives the wired server: a call-centre payment is
// answered ciba with a status URL, POST /v1/ciba starts the backchannel
// request at the IdP, the poller polls until the user approves, the
// approval's ID token is verified, and the trail links it to the decision.
func TestCIBARunByStepgate(t *testing.T) {
	idp := pdptest.NewIssuer(t)
	var polls atomic.Int32
	var bcForm atomic.Value
	idp.Handle("/bc-authorize", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ciba-client" || p != "ciba-secret" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		_ = r.ParseForm()
		bcForm.Store(r.PostForm.Encode())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"auth_req_id":"req-1","expires_in":120,"interval":1}`))
	}))
	idp.Handle("/token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if polls.Add(1) < 2 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"authorization_pending"}`))
			return
		}
		now := time.Now().Unix()
		tok := idp.Mint(t, map[string]any{"sub": "alice", "aud": "ciba-client", "iat": now, "exp": now + 300,
			"auth_time": now, "amr": []string{"pwd", "mfa"}})
		_ = json.NewEncoder(w).Encode(map[string]any{"id_token": tok, "access_token": "at", "token_type": "Bearer", "expires_in": 300})
	}))
	cfgFile := filepath.Join(t.TempDir(), "stepgate.yaml")
	err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(`issuers:
  - issuer: %s
    audiences: [%s]
    ciba:
      client_id: ciba-client
      client_secret: ciba-secret
      login_hint: sub
`, idp.URL(), pdptest.DefaultAudience)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	e := testEnv(t)
	e["STEPGATE_CONFIG"] = cfgFile
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
	s := startServer(t, e)

	now := time.Now().Unix()
	userToken := idp.Mint(t, map[string]any{"sub": "alice", "aud": pdptest.DefaultAudience, "iat": now, "exp": now + 600,
		"auth_time": now - 30, "amr": []string{"pwd", "mfa"}})
	d := s.decide(t, testKey, `{"token":"`+userToken+`","action":"billing.pay","context":{"channel":"call_center","amount":900}}`)
	ciba, _ := d["ciba"].(map[string]any)
	if d["decision"] != "ciba" || ciba["id"] == nil || ciba["status_url"] == nil {
		t.Fatalf("decision: %v", d)
	}
	decisionID := d["decision_id"].(string)

	post := func(path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.decision+path, strings.NewReader(body))
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
	code, st := post("/v1/ciba", `{"decision_id":"`+decisionID+`"}`)
	if code != http.StatusCreated || st["status"] != "pending" {
		t.Fatalf("start: %d %v", code, st)
	}
	form, _ := bcForm.Load().(string)
	for _, want := range []string{"login_hint=alice", "binding_message=PAY-", "scope=openid"} {
		if !strings.Contains(form, want) {
			t.Errorf("backchannel request %q lacks %q", form, want)
		}
	}
	statusURL := s.decision + ciba["status_url"].(string)
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, statusURL, nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if m["status"] == "approved" {
			if claims, _ := m["claims"].(map[string]any); claims["sub"] != "alice" {
				t.Fatalf("approved without verified claims: %v", m)
			}
			break
		}
		if m["status"] != "pending" || time.Now().After(deadline) {
			t.Fatalf("status: %v", m)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, e, "audit", "export", "--format", "ndjson", "--decision-id", decisionID)
	if err != nil {
		t.Fatal(err)
	}
	var decision storage.AuditRecord
	var flows []storage.AuditRecord
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r storage.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		switch r.Kind {
		case storage.KindDecision:
			decision = r
		case storage.KindCIBA:
			flows = append(flows, r)
		}
	}
	if decision.Outcome != "ciba" {
		t.Fatalf("trail for decision %s has no ciba decision: %+v", decisionID, decision)
	}
	// One record per transition, started before approved, each linked to
	// the decision and the request; the approval carries what was proven.
	slices.SortFunc(flows, func(a, b storage.AuditRecord) int { return a.Time.Compare(b.Time) })
	var outcomes []string
	for _, r := range flows {
		outcomes = append(outcomes, r.Outcome)
		if r.CIBAID != ciba["id"] || r.DecisionID != decisionID || r.Hash == "" {
			t.Errorf("ciba record %+v is not linked to request %v of decision %s", r, ciba["id"], decisionID)
		}
	}
	if !slices.Equal(outcomes, []string{"started", "approved"}) {
		t.Fatalf("ciba records of decision %s: %v, want [started approved]", decisionID, outcomes)
	}
	proof, ok := storage.FlowDetailOf(flows[1])
	if !ok || !slices.Equal(proof.AMR, []string{"pwd", "mfa"}) || proof.AuthTime.IsZero() {
		t.Fatalf("approved record's detail %s, want the ID token's amr and auth_time", flows[1].Detail)
	}
	csvOut, err := cli(t, e, "audit", "export", "--format", "csv", "--kind", "ciba")
	if err != nil || strings.Count(csvOut, ciba["id"].(string)) != 2 || !strings.Contains(csvOut, `""amr"":[""pwd"",""mfa""]`) {
		t.Fatalf("csv export of the ciba records (%v):\n%s", err, csvOut)
	}
	if out, err := cli(t, e, "audit", "verify"); err != nil || !strings.Contains(out, "audit chain intact") {
		t.Fatalf("audit verify after the ciba flow: %v %s", err, out)
	}
}
