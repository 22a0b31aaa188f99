package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// logoutIdP is a minted-token IdP configured through a YAML file, with the
// app client that its logout tokens are addressed to.
type logoutIdP struct {
	*pdptest.Issuer
	cfgFile string
}

func newLogoutIdP(t *testing.T) logoutIdP {
	t.Helper()
	idp := pdptest.NewIssuer(t)
	cfgFile := filepath.Join(t.TempDir(), "stepgate.yaml")
	err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(`issuers:
  - issuer: %s
    audiences: [%s]
    authorize:
      client_id: web-app
      redirect_uri: https://app.example/callback
      scopes: [openid]
`, idp.URL(), pdptest.DefaultAudience)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return logoutIdP{Issuer: idp, cfgFile: cfgFile}
}

// login mints an MFA access token of IdP session sid, signed in at authTime.
func (p logoutIdP) login(t *testing.T, sid string, authTime time.Time) string {
	t.Helper()
	now := time.Now()
	return p.Mint(t, map[string]any{"sub": "alice", "aud": pdptest.DefaultAudience, "sid": sid, "amr": []string{"pwd", "mfa"},
		"auth_time": authTime.Unix(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
}

// logout posts a back-channel logout of sid, issued at iat, to s.
func (p logoutIdP) logout(t *testing.T, s *server, sid string, iat time.Time) {
	t.Helper()
	tok := p.Mint(t, map[string]any{"aud": "web-app", "sid": sid, "jti": "jti-" + sid, "iat": iat.Unix(),
		"exp": time.Now().Add(2 * time.Minute).Unix(), "events": map[string]any{trust.BackchannelLogoutEvent: map[string]any{}}})
	resp, err := http.PostForm(s.decision+"/v1/backchannel-logout", url.Values{"logout_token": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("back-channel logout: HTTP %d", resp.StatusCode)
	}
}

func billing(token, session string) string {
	return `{"token":"` + token + `","action":"billing.view","session_id":"` + session + `"}`
}

// wantEnded checks a step-up to a fresh login naming the logout.
func wantEnded(t *testing.T, d map[string]any, reason string) {
	t.Helper()
	reasons, _ := d["reasons"].([]any)
	stepUp, _ := d["step_up"].(map[string]any)
	authorize, _ := stepUp["authorize_url"].(string)
	if d["decision"] != "step_up" || len(reasons) == 0 || !strings.Contains(fmt.Sprint(reasons[0]), reason) ||
		!strings.Contains(authorize, "max_age=0") {
		t.Fatalf("decision %v, want step_up with max_age=0 and first reason naming %q", d, reason)
	}
}

// waitEnded polls s until it answers a step-up naming the logout, for at
// most five seconds, and returns how long that took.
func waitEnded(t *testing.T, s *server, body, reason string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		d := s.decide(t, testKey, body)
		if d["decision"] == "step_up" {
			wantEnded(t, d, reason)
			return time.Since(start)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("replica %s still answers %v five seconds after the logout", s.decision, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantLogoutAudited checks that the trail verifies and holds the logout.
func wantLogoutAudited(t *testing.T, e env, want string) {
	t.Helper()
	e["STEPGATE_AUDIT_CHAIN_ID"] = "cli"
	if out, err := cli(t, e, "audit", "verify"); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	out, err := cli(t, e, "audit", "export", "--format", "ndjson", "--kind", "session", "--outcome", "logout")
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("audit export of logouts: %v\n%s\nwant %q", err, out, want)
	}
}

// TestLogoutEndsSessionOnEveryReplica: a back-channel logout received by
// replica 1 ends the session on replica 2 (whose decision cache held an
// allow) within a second or so, and after a restart.
func TestLogoutEndsSessionOnEveryReplica(t *testing.T) {
	idp := newLogoutIdP(t)
	dsn := sqlstoretest.PostgresSchemaURL(t)
	var envs []env
	var replicas []*server
	for i := range 2 {
		e := testEnv(t)
		e["STEPGATE_CONFIG"] = idp.cfgFile
		e["STEPGATE_DATABASE_URL"] = dsn
		e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
		e["STEPGATE_AUDIT_CHAIN_ID"] = fmt.Sprintf("replica-%d", i+1)
		envs = append(envs, e)
		replicas = append(replicas, startServer(t, e))
	}
	now := time.Now()
	old, other := idp.login(t, "sid-A", now.Add(-time.Minute)), idp.login(t, "sid-B", now.Add(-time.Minute))
	for _, r := range replicas {
		if d := r.decide(t, testKey, billing(old, "")); d["decision"] != "allow" {
			t.Fatalf("before the logout: %v", d)
		}
	}
	idp.logout(t, replicas[0], "sid-A", now.Add(-10*time.Second))
	wantEnded(t, replicas[0].decide(t, testKey, billing(old, "")), "back-channel logout from "+idp.URL())
	took := waitEnded(t, replicas[1], billing(old, ""), "back-channel logout from "+idp.URL())
	t.Logf("replica 2 ended the session %v after replica 1 received the logout", took)
	if d := replicas[1].decide(t, testKey, billing(other, "")); d["decision"] != "allow" {
		t.Fatalf("another session was ended too: %v", d)
	}

	if err := replicas[1].stop(); err != nil {
		t.Fatal(err)
	}
	restarted := startServer(t, envs[1])
	wantEnded(t, restarted.decide(t, testKey, billing(old, "")), "back-channel logout")
	// Signing in again after the logout is a new session.
	if d := restarted.decide(t, testKey, billing(idp.login(t, "sid-A", now.Add(-5*time.Second)), "")); d["decision"] != "allow" {
		t.Fatalf("a login after the logout: %v", d)
	}
	for _, s := range []*server{replicas[0], restarted} {
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
	}
	wantLogoutAudited(t, envs[0], "(jti jti-sid-A)")
}

// TestLogoutSurvivesRestartSQLite: a back-channel logout and a client's
// revocation both still end their sessions after a restart on SQLite.
func TestLogoutSurvivesRestartSQLite(t *testing.T) {
	idp := newLogoutIdP(t)
	e := testEnv(t)
	e["STEPGATE_CONFIG"] = idp.cfgFile
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = testKey
	s := startServer(t, e)
	now := time.Now()
	old, app := idp.login(t, "sid-A", now.Add(-time.Minute)), idp.login(t, "sid-B", now.Add(-time.Minute))
	idp.logout(t, s, "sid-A", now.Add(-10*time.Second))
	req, _ := http.NewRequest(http.MethodPost, s.decision+"/v1/sessions/web-1/revoke", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: HTTP %d", resp.StatusCode)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	s = startServer(t, e)
	wantEnded(t, s.decide(t, testKey, billing(old, "")), "back-channel logout from "+idp.URL())
	wantEnded(t, s.decide(t, testKey, billing(app, "web-1")), `session "web-1" was ended by client`)
	if d := s.decide(t, testKey, billing(app, "web-2")); d["decision"] != "allow" {
		t.Fatalf("another app session was ended too: %v", d)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	wantLogoutAudited(t, e, "(jti jti-sid-A)")
	wantLogoutAudited(t, e, "revoked by client dev")
}
