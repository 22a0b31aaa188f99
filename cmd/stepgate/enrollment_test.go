package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/enrollment/enrollmenttest"
	"github.com/stepgate/stepgate/pdp/pdptest"
)

func enrollmentConfig(t *testing.T, issuer, enrollment string) string {
	t.Helper()
	cfgFile := filepath.Join(t.TempDir(), "stepgate.yaml")
	err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(`issuers:
  - issuer: %s
    audiences: [%s]
    dialect: auth0
    ciba:
      client_id: ciba-client
      client_secret: ciba-secret
      enrollment:
%s`, issuer, pdptest.DefaultAudience, enrollment)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return cfgFile
}

// TestEnrollmentAwareCIBAWired: issuers[].ciba.enrollment from the YAML file
// reaches the decisions, /metrics and the audit trail.
func TestEnrollmentAwareCIBAWired(t *testing.T) {
	idp := pdptest.NewIssuer(t)
	mgmt := enrollmenttest.New(t, nil)
	mgmt.SetUser("auth0|phone", enrollmenttest.Push("iphone"))
	mgmt.SetUser("auth0|nophone", enrollmenttest.TOTP("otp"))
	e := testEnv(t)
	e["STEPGATE_CONFIG"] = enrollmentConfig(t, idp.URL(), fmt.Sprintf(`        domain: %s
        client_id: %s
        client_secret: %s
        ttl: 30s
        timeout: 2s
`, mgmt.URL, mgmt.ClientID, mgmt.ClientSecret))
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
	s := startServer(t, e)

	pay := func(sub string) map[string]any {
		now := time.Now().Unix()
		tok := idp.Mint(t, map[string]any{"sub": sub, "aud": pdptest.DefaultAudience, "iat": now, "exp": now + 600,
			"auth_time": now - 120, "amr": []string{"pwd", "mfa"}})
		return s.decide(t, testKey, `{"token":"`+tok+`","action":"billing.pay","context":{"channel":"call_center","amount":900}}`)
	}
	if d := pay("auth0|phone"); d["decision"] != "ciba" {
		t.Fatalf("enrolled user: %v", d)
	}
	d := pay("auth0|nophone")
	if d["decision"] != "step_up" || !strings.Contains(fmt.Sprint(d["reasons"]), "no device enrolled") {
		t.Fatalf("user without push: %v", d)
	}
	if mgmt.TokenRequests() != 1 || mgmt.MethodRequests() != 2 {
		t.Errorf("%d token and %d method requests, want 1 and 2", mgmt.TokenRequests(), mgmt.MethodRequests())
	}

	resp, err := http.Get(s.decision + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`stepgate_ciba_enrollment_lookups_total{result="capable",source="auth0"} 1`,
		`stepgate_ciba_enrollment_lookups_total{result="not_capable",source="auth0"} 1`,
		`stepgate_ciba_enrollment_checks_total{result="miss",source="auth0"} 2`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Stopped, the server has indexed every journaled record: a running one
	// makes them searchable within the journal's index delay.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, e, "audit", "export", "--format", "ndjson", "--decision-id", d["decision_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`ciba_enrollment`, `not_capable`, `no confirmed push authenticator`, `ciba_capable`} {
		if !strings.Contains(out, want) {
			t.Errorf("audit record lacks %s:\n%s", want, out)
		}
	}
}

func TestEnrollmentConfigRefused(t *testing.T) {
	idp := pdptest.NewIssuer(t)
	e := testEnv(t)
	e["STEPGATE_CONFIG"] = enrollmentConfig(t, idp.URL(), "        mode: sms\n")
	err := run(t.Context(), nil, e.get, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `ciba.enrollment: unknown mode "sms"`) {
		t.Fatalf("serve with a bad enrollment mode: %v", err)
	}
}
