package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// adminBrowser signs in to the wired server's admin UI with the bootstrap
// password and returns a client holding the session.
func adminBrowser(t *testing.T, s *server, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := adminGet(t, c, s.admin+"/login")
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("sign-in page has no CSRF token:\n%s", page)
	}
	resp, err := c.PostForm(s.admin+"/login", url.Values{"_csrf": {m[1]}, "user": {"admin"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("sign in: status %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return c
}

// adminGet returns the body of a 200 answer.
func adminGet(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, %v\n%s", u, resp.StatusCode, err, b)
	}
	return string(b)
}

// TestCLIAndUIExportTheSameBytes: `stepgate audit export` and the admin
// UI's export link are one implementation, so one filter gives one file
// from either, in both formats, formula neutralisation included.
func TestCLIAndUIExportTheSameBytes(t *testing.T) {
	e := testEnv(t)
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = "sgk_export-test-key-0123456789abcdef"
	e["STEPGATE_BOOTSTRAP_ADMIN_PASSWORD"] = "an export test password"
	s := startServer(t, e)
	now := time.Now().Unix()
	for _, d := range []struct{ sub, amr, action string }{
		{"alice", `"pwd","mfa"`, "billing.view"},
		{"bob", `"pwd"`, "billing.view"},
		{`=HYPERLINK(\"http://evil\")`, `"pwd"`, "billing.view"},
		{"@carol", `"mfa"`, "profile.update"},
		{"dave", `"pwd","mfa"`, "unknown.thing"},
	} {
		s.decide(t, e["STEPGATE_BOOTSTRAP_CLIENT_KEY"], fmt.Sprintf(`{"claims":{"sub":"%s","amr":[%s],"auth_time":%d},"action":"%s"}`,
			d.sub, d.amr, now-60, d.action))
	}
	ui := adminBrowser(t, s, e["STEPGATE_BOOTSTRAP_ADMIN_PASSWORD"])
	// Both exports carry the latest checkpoint: let it cover everything
	// first, so that none is signed between them.
	waitAnchored(t, e)
	tests := []struct {
		name  string
		query url.Values
		args  []string
		rows  int // records the filter matches
		// atLeast: more may match, e.g. admin changes the server may add.
		atLeast bool
	}{
		{"every decision", url.Values{"kind": {"decision"}}, []string{"--kind", "decision"}, 5, false},
		{"one action without MFA", url.Values{"action": {"billing.view"}, "mfa": {"no"}},
			[]string{"--action", "billing.view", "--mfa", "no"}, 2, false},
		{"a formula subject", url.Values{"subject": {`=HYPERLINK("http://evil")`}},
			[]string{"--subject", `=HYPERLINK("http://evil")`}, 1, false},
		{"admin changes", url.Values{"kind": {"admin"}}, []string{"--kind", "admin"}, 2, true},
	}
	for _, tc := range tests {
		for _, format := range []string{"csv", "ndjson"} {
			t.Run(tc.name+" "+format, func(t *testing.T) {
				q := url.Values{"format": {format}}
				for k, v := range tc.query {
					q[k] = v
				}
				fromUI := adminGet(t, ui, s.admin+"/audit/export?"+q.Encode())
				fromCLI, err := cli(t, e, append([]string{"audit", "export", "--format", format}, tc.args...)...)
				if err != nil {
					t.Fatalf("cli: %v\n%s", err, fromCLI)
				}
				if fromUI != fromCLI {
					t.Fatalf("the exports differ\nUI:\n%s\nCLI:\n%s", fromUI, fromCLI)
				}
				lines := strings.Count(fromCLI, "\n")
				if format == "csv" {
					lines-- // the header
				} else {
					// The signed checkpoints come first: one, by this server.
					if n := strings.Count(fromCLI, `{"checkpoint":`); n != 1 || !strings.HasPrefix(fromCLI, `{"checkpoint":`) {
						t.Fatalf("want the export to start with one checkpoint, got %d:\n%s", n, fromCLI)
					}
					lines--
				}
				if lines < tc.rows || !tc.atLeast && lines != tc.rows {
					t.Fatalf("%d records exported, want %d:\n%s", lines, tc.rows, fromCLI)
				}
				if format == "csv" && strings.Contains(fromCLI, ",=HYPERLINK") {
					t.Fatalf("a formula reached the CSV unquoted:\n%s", fromCLI)
				}
			})
		}
	}
}

// waitAnchored waits until a signed checkpoint covers every record: every
// record in the database, and none still waiting in the audit journal to
// be indexed (the checkpoint that covers it would be signed a second later,
// between two exports).
func waitAnchored(t *testing.T, e env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := cli(t, e, "audit", "verify")
		if err != nil {
			t.Fatalf("verify: %v\n%s", err, out)
		}
		if !strings.Contains(out, "not yet anchored") && !strings.Contains(out, "waiting in journal") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("records stay unanchored:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
