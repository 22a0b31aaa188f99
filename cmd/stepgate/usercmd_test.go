package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/admin/users"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// adminRecords returns the admin records of the data dir, oldest first.
func adminRecords(t *testing.T, e env, action string) []storage.AuditRecord {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), sqlstore.Config{URL: sqlstore.DefaultSQLiteURL(e["STEPGATE_DATA_DIR"])})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.SearchAudit(context.Background(), storage.AuditQuery{Kind: storage.KindAdmin, Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Records
}

func TestAdminUserCLI(t *testing.T) {
	e := testEnv(t)
	s := startServer(t, e) // first start: the bootstrap admin
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, e, "admin", "user", "list")
	if err != nil || !strings.Contains(out, "admin  admin  enabled") {
		t.Fatalf("list after the first start: %v\n%s", err, out)
	}

	out, err = cli(t, e, "admin", "user", "add", "alice", "--role", "admin")
	if err != nil || !strings.Contains(out, "account alice added (admin)") || !strings.Contains(out, "password (shown only this once): ") {
		t.Fatalf("add alice: %v\n%s", err, out)
	}
	e[passwordEnv] = "audrey-password-1"
	out, err = cli(t, e, "admin", "user", "add", "audrey")
	if err != nil || !strings.Contains(out, "account audrey added (auditor)") || strings.Contains(out, "audrey-password-1") {
		t.Fatalf("add audrey with the password from the environment: %v\n%s", err, out)
	}
	e[passwordEnv] = "short"
	if out, err := cli(t, e, "admin", "user", "passwd", "audrey"); err == nil || !strings.Contains(err.Error(), "at least 12 characters") {
		t.Fatalf("short password: %v\n%s", err, out)
	}
	e[passwordEnv] = "audrey-password-2"
	if out, err := cli(t, e, "admin", "user", "passwd", "audrey"); err != nil || !strings.Contains(out, "new password") {
		t.Fatalf("passwd: %v\n%s", err, out)
	}
	if _, err := cli(t, e, "admin", "user", "disable", "audrey"); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Fatalf("disable without a reason: %v", err)
	}
	if out, err := cli(t, e, "admin", "user", "disable", "audrey", "-m", "left"); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %v\n%s", err, out)
	}
	if _, err := cli(t, e, "admin", "user", "disable", "bogus", "-m", "x"); err == nil {
		t.Fatal("disabling an unknown account succeeded")
	}
	cli(t, e, "admin", "user", "disable", "admin", "-m", "shared account retired")
	if _, err := cli(t, e, "admin", "user", "disable", "alice", "-m", "x"); err == nil || !strings.Contains(err.Error(), "last enabled admin") {
		t.Fatalf("disable the last admin: %v", err)
	}
	out, err = cli(t, e, "admin", "user", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alice   admin    enabled", "audrey  auditor  disabled", "admin   admin    disabled"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if _, err := cli(t, e, "admin", "user", "frobnicate"); exitCodeOf(err) != 2 {
		t.Errorf("unknown subcommand: %v", err)
	}
	// Every change is recorded under the operating system account.
	for _, action := range []string{users.ActionAdd, users.ActionPassword, users.ActionDisable} {
		recs := adminRecords(t, e, action)
		if len(recs) == 0 || !strings.HasPrefix(recs[0].Actor, "cli") {
			t.Errorf("%s records: %+v", action, recs)
		}
	}
}

func TestCLIRespectsFourEyes(t *testing.T) {
	e := testEnv(t)
	conf := filepath.Join(t.TempDir(), "stepgate.yaml")
	if err := os.WriteFile(conf, []byte("admin:\n  require_approval: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, e)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	dir := bundleDir(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "data.json") {
			return []byte(strings.Replace(string(b), `"actions": {`, `"actions": {"reports.export": {"max_age": 600},`, 1))
		}
		return b
	})
	if out, err := cli(t, e, "--config", conf, "policy", "push", dir, "-m", "second"); err != nil {
		t.Fatalf("push a draft: %v\n%s", err, out)
	}
	if _, err := cli(t, e, "--config", conf, "policy", "activate", "2", "-m", "now"); err == nil || !strings.Contains(err.Error(), "require_approval") {
		t.Fatalf("activate without bypass: %v", err)
	}
	if _, err := cli(t, e, "--config", conf, "policy", "push", "--activate", dir); err == nil {
		t.Fatal("push --activate went live in four-eyes mode")
	}
	out, err := cli(t, e, "--config", conf, "policy", "activate", "2", "-m", "incident 42", "--bypass-approval")
	if err != nil || !strings.Contains(out, "revision 2 is active") {
		t.Fatalf("activate with bypass: %v\n%s", err, out)
	}
	recs := adminRecords(t, e, "policy.activate")
	var d map[string]any
	_ = json.Unmarshal(recs[0].Detail, &d)
	if d["approval"] != "bypassed" || d["reason"] != "incident 42" {
		t.Errorf("the bypassing activation's record: %v", d)
	}
	if _, err := cli(t, e, "--config", conf, "policy", "rollback", "-m", "undo"); err == nil {
		t.Fatal("rollback without bypass went through")
	}
	if out, err := cli(t, e, "--config", conf, "policy", "rollback", "-m", "undo", "--bypass-approval"); err != nil || !strings.Contains(out, "revision 1 is active") {
		t.Fatalf("rollback with bypass: %v\n%s", err, out)
	}
	_ = json.Unmarshal(adminRecords(t, e, "policy.rollback")[0].Detail, &d)
	if d["approval"] != "bypassed" {
		t.Errorf("the bypassing rollback's record: %v", d)
	}
}
