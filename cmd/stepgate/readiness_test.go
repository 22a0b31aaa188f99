package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

type readyzAnswer struct {
	code   int
	Status string `json:"status"`
	Checks []struct {
		Name, Status, Detail string
	} `json:"checks"`
}

func readyz(t *testing.T, s *server) readyzAnswer {
	t.Helper()
	resp, err := http.Get(s.decision + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := readyzAnswer{code: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("/readyz is not JSON: %v", err)
	}
	return a
}

func (a readyzAnswer) status(name string) string {
	for _, c := range a.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return "missing"
}

// TestReadinessRecoversAfterPostgresOutage cuts PostgreSQL away from a
// sync-mode server: /readyz fails and names the failing checks, a client
// key that cannot be looked up gets a retryable 503, and once the
// database is back /readyz recovers with no decision at all (a
// readiness-gated load balancer sends none), the audit trail marking the
// gap with the prober's record.
func TestReadinessRecoversAfterPostgresOutage(t *testing.T) {
	dsn, proxy := viaProxy(t, sqlstoretest.PostgresSchemaURL(t))
	e := testEnv(t)
	e["STEPGATE_DATABASE_URL"] = dsn
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
	// Without the journal, so that the first decision of the outage is the
	// one whose record fails (with it, that record waits in the journal:
	// TestDatabaseOutageFailsClosed/journal).
	e["STEPGATE_AUDIT_JOURNAL_DIR"] = "off"
	s := startServer(t, e)
	a := readyz(t, s)
	if a.code != http.StatusOK || a.Status != "ready" {
		t.Fatalf("/readyz at start: %d %+v", a.code, a)
	}
	for _, name := range []string{"policy", "database", "audit", "policy_evaluations"} {
		if a.status(name) != "ok" {
			t.Errorf("check %s at start: %s", name, a.status(name))
		}
	}
	body := fmt.Sprintf(`{"claims":{"sub":"alice","amr":["mfa"],"auth_time":%d},"action":"billing.view"}`, time.Now().Unix())
	s.decide(t, testKey, body) // the client key is cached for 5s from here

	proxy.Cut()
	// A decision while the key is still cached: its audit record fails.
	if d := s.decide(t, testKey, body); d["decision"] != "deny" || !strings.Contains(fmt.Sprint(d["reasons"]), "audit_unavailable") {
		t.Fatalf("the first decision of the outage: %v", d)
	}
	if a := readyz(t, s); a.code != http.StatusServiceUnavailable || a.status("audit") != "failing" {
		t.Fatalf("/readyz right after a decision could not be recorded: %d %+v", a.code, a)
	}
	deadline := time.Now().Add(30 * time.Second)
	for a = readyz(t, s); a.code != http.StatusServiceUnavailable || a.status("database") != "failing"; a = readyz(t, s) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz during the outage: %d %+v", a.code, a)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The client key's cache entry expires (5s): then the lookup fails.
	for {
		req, _ := http.NewRequest(http.MethodPost, s.decision+"/v1/decision", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			if resp.Header.Get("Retry-After") == "" || m["error"] != "temporarily_unavailable" {
				t.Fatalf("503 without Retry-After or a retryable error: %v %v", resp.Header, m)
			}
			break
		}
		if resp.StatusCode != http.StatusOK || m["decision"] == "allow" {
			t.Fatalf("during the outage: %d %v", resp.StatusCode, m)
		}
		if time.Now().After(deadline) {
			t.Fatal("a client key lookup never failed during the outage")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if a := readyz(t, s); a.status("audit") != "failing" {
		t.Errorf("audit check during the outage: %s", a.status("audit"))
	}

	proxy.Restore()
	restored := time.Now()
	deadline = restored.Add(30 * time.Second)
	for a = readyz(t, s); a.code != http.StatusOK; a = readyz(t, s) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not recover without traffic: %d %+v", a.code, a)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("ready again %s after the database came back", time.Since(restored).Round(time.Millisecond))
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, e, "audit", "export", "--format", "ndjson", "--kind", storage.KindAdmin)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	found := false
	for sc := bufio.NewScanner(strings.NewReader(out)); sc.Scan(); {
		var r storage.AuditRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Action == actionAuditResumed && r.Actor == readinessActor {
			found = true
		}
	}
	if !found {
		t.Errorf("no %s record in the trail:\n%s", actionAuditResumed, out)
	}
}

// TestPolicyFailingEverywhereIsNotReady activates, through the CLI, a
// revision whose every evaluation fails (its decision is malformed): the
// answers are fail-closed denies, and under that traffic /readyz reports
// policy_evaluations failing once the window holds only the new
// revision's answers. Activating a working revision makes the replica
// ready again.
func TestPolicyFailingEverywhereIsNotReady(t *testing.T) {
	e := testEnv(t)
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
	conf := filepath.Join(t.TempDir(), "stepgate.yaml")
	if err := os.WriteFile(conf, []byte("readiness:\n  interval: 100ms\n  policy_window: 2s\n  policy_min_errors: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e["STEPGATE_CONFIG"] = conf
	s := startServer(t, e)
	if a := readyz(t, s); a.code != http.StatusOK {
		t.Fatalf("/readyz at start: %d %+v", a.code, a)
	}
	broken := bundleDir(t, func(name string, b []byte) []byte {
		switch {
		case strings.HasSuffix(name, "_test.rego"):
			return []byte("package stepgate_test\n")
		case strings.HasSuffix(name, "/policy.rego"):
			return []byte(strings.Replace(string(b), "decision := object.union(_decision, _validity)", `decision := {"decision": "perhaps"}`, 1))
		}
		return b
	})
	ce := env{}
	for k, v := range e {
		ce[k] = v
	}
	ce["STEPGATE_AUDIT_CHAIN_ID"] = "cli"
	if out, err := cli(t, ce, "policy", "push", "--activate", broken); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	body := `{"claims":{"sub":"alice","amr":["mfa"]},"action":"billing.view"}`
	deadline := time.Now().Add(30 * time.Second)
	for d := s.decide(t, testKey, body); d["policy_revision"] != float64(2); d = s.decide(t, testKey, body) {
		if time.Now().After(deadline) {
			t.Fatalf("the broken revision never came into force: %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Traffic goes on; every answer is a deny.
	var a readyzAnswer
	for a = readyz(t, s); a.status("policy_evaluations") != "failing"; a = readyz(t, s) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with every evaluation failing: %d %+v", a.code, a)
		}
		if d := s.decide(t, testKey, body); d["decision"] != "deny" {
			t.Fatalf("under the broken revision: %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a.code != http.StatusServiceUnavailable || a.Status != "not ready" {
		t.Fatalf("/readyz: %d %+v", a.code, a)
	}
	if out, err := cli(t, ce, "policy", "activate", "1"); err != nil {
		t.Fatalf("activate revision 1: %v\n%s", err, out)
	}
	for a = readyz(t, s); a.code != http.StatusOK; a = readyz(t, s) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after activating a working revision: %d %+v", a.code, a)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
