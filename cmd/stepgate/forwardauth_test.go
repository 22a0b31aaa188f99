package main

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestForwardAuthConfig(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for _, tc := range []struct {
		name, yaml string
		wantErr    string // empty: valid
	}{
		{name: "routes and a default action", yaml: "forward_auth:\n  client: nginx\n  routes:\n    - {path: /billing/**, action: billing.view, resource_type: page, methods: [GET]}\n  default: {action: app.view}\n"},
		{name: "deny by default, trusted proxy", yaml: "forward_auth:\n  client: traefik\n  trusted_proxies: [10.0.0.0/8]\n  default: {deny: true}\n  cookie_keys: [" + key + "]\n"},
		{name: "no client", yaml: "forward_auth:\n  default: {deny: true}\n", wantErr: "forward_auth.client is required"},
		{name: "no default", yaml: "forward_auth:\n  client: nginx\n", wantErr: "explicit action or deny"},
		{name: "bad route", yaml: "forward_auth:\n  client: nginx\n  routes: [{path: billing, action: billing.view}]\n  default: {deny: true}\n", wantErr: "must start with /"},
		{name: "bad proxy", yaml: "forward_auth:\n  client: nginx\n  trusted_proxies: [10.0.0.1]\n  default: {deny: true}\n", wantErr: "trusted_proxies"},
		{name: "short key", yaml: "forward_auth:\n  client: nginx\n  default: {deny: true}\n  cookie_keys: [" + base64.StdEncoding.EncodeToString([]byte("short")) + "]\n", wantErr: "want at least 32"},
		{name: "unknown key", yaml: "forward_auth:\n  client: nginx\n  default: {deny: true}\n  cookie: x\n", wantErr: "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "stepgate.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(file, env{}.get)
			if tc.wantErr == "" {
				if err != nil || cfg.ForwardAuth == nil {
					t.Fatalf("loadConfig: %v (forward_auth %+v)", err, cfg.ForwardAuth)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("loadConfig error = %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// The cookie key is generated into the data dir on first start and read
// back afterwards; a key file with several keys (rotation) yields them all,
// newest first.
func TestForwardAuthCookieKeyFile(t *testing.T) {
	dir := t.TempDir()
	f := &ForwardAuthConfig{}
	log := slog.New(slog.DiscardHandler)
	first, err := f.cookieKeys(dir, log)
	if err != nil || len(first) != 1 || len(first[0]) != 32 {
		t.Fatalf("first start: %d keys, %v", len(first), err)
	}
	file := filepath.Join(dir, "forward-auth-cookie.keys")
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", st, err)
	}
	again, err := f.cookieKeys(dir, log)
	if err != nil || !bytes.Equal(again[0], first[0]) {
		t.Fatalf("second start read another key (%v)", err)
	}
	newer := bytes.Repeat([]byte{9}, 48)
	old, _ := os.ReadFile(file)
	rotated := "# newest first\n" + base64.StdEncoding.EncodeToString(newer) + "\n" + string(old)
	if err := os.WriteFile(file, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := f.cookieKeys(dir, log)
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], newer) || !bytes.Equal(keys[1], first[0]) {
		t.Fatalf("rotated file: %d keys, %v; want the new key then the old one", len(keys), err)
	}
	if err := os.WriteFile(file, []byte("not base64!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cookieKeys(dir, log); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Fatalf("a broken key file: %v, want an error", err)
	}
}

// serve with forward_auth: the routes are on the decision listener, the
// proxy authenticates with its key, and the cookie key is generated into
// the data dir.
func TestServeForwardAuth(t *testing.T) {
	e := testEnv(t)
	file := filepath.Join(t.TempDir(), "stepgate.yaml")
	conf := `issuers:
  - issuer: http://127.0.0.1:9
    audiences: [https://api.example]
    authorize: {client_id: web-app, scopes: [openid]}
clients:
  - {id: nginx, key: sgk_nginx-test-key}
forward_auth:
  client: nginx
  routes: [{path: "/billing/**", action: billing.view}]
  default: {action: app.view}
`
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	e["STEPGATE_CONFIG"] = file
	s := startServer(t, e)
	if _, err := os.Stat(filepath.Join(e["STEPGATE_DATA_DIR"], "forward-auth-cookie.keys")); err != nil {
		t.Fatalf("cookie key not generated: %v", err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		status  int
		header  string // a header the answer must carry, "Name: value-prefix"
	}{
		{"no proxy key", "/v1/forward-auth", map[string]string{"X-Forwarded-Uri": "/"}, http.StatusUnauthorized, ""},
		{"API call without credentials", "/v1/forward-auth", map[string]string{"X-Stepgate-Client-Key": "sgk_nginx-test-key",
			"X-Forwarded-Uri": "/billing", "Accept": "application/json"}, http.StatusUnauthorized, `Www-Authenticate: Bearer realm="stepgate"`},
		{"a bad bearer token", "/v1/forward-auth", map[string]string{"X-Stepgate-Client-Key": "sgk_nginx-test-key",
			"X-Forwarded-Uri": "/billing", "Authorization": "Bearer not-a-jwt"}, http.StatusUnauthorized, `Www-Authenticate: Bearer error="invalid_token"`},
		{"callback without a sign-in", "/_stepgate/callback?code=x&state=y", nil, http.StatusBadRequest, "Content-Type: text/html"},
		{"sign-out to another site", "/_stepgate/signout?rd=https://evil.example/", nil, http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.decision+tc.path, nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("%s, want %d", resp.Status, tc.status)
			}
			if name, want, ok := strings.Cut(tc.header, ": "); ok && !strings.HasPrefix(resp.Header.Get(name), want) {
				t.Fatalf("%s = %q, want %q…", name, resp.Header.Get(name), want)
			}
		})
	}
}
