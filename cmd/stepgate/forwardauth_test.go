package main

import (
	"bytes"
	"encoding/base64"
	"log/slog"
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
