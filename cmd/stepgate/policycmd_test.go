package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/storage/sqlstore"
)

// TestPolicyCommandsWithAuditInsertsFailing: when the database refuses
// audit inserts, `policy activate`, `policy push [--activate]` and `policy
// rollback` fail with an error saying the change could not be recorded, and
// change nothing: every change commits with its record or not at all.
func TestPolicyCommandsWithAuditInsertsFailing(t *testing.T) {
	e := testEnv(t)
	first := bundleDir(t, nil)
	second := bundleDir(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "policy.rego") {
			return append(b, []byte("\n# second revision\n")...)
		}
		return b
	})
	third := bundleDir(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "policy.rego") {
			return append(b, []byte("\n# third revision\n")...)
		}
		return b
	})
	for _, args := range [][]string{
		{"policy", "push", "--activate", first, "-m", "first"},
		{"policy", "push", "--activate", second, "-m", "second"},
		{"policy", "push", third, "-m", "a draft"},
	} {
		if out, err := cli(t, e, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	before, _ := cli(t, e, "policy", "list")

	db, err := sql.Open("sqlite", filepath.Join(e["STEPGATE_DATA_DIR"], "stepgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'audit inserts refused'); END`)

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"activate", []string{"policy", "activate", "3", "-m", "go live"}},
		{"push --activate", []string{"policy", "push", "--activate", third, "-m", "again"}},
		{"push", []string{"policy", "push", third, "-m", "again"}},
		{"rollback", []string{"policy", "rollback", "-m", "undo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := cli(t, e, tc.args...)
			if exitCodeOf(err) != 1 || !strings.Contains(err.Error(), "record admin change") || !strings.Contains(err.Error(), "audit inserts refused") {
				t.Fatalf("exit %d, error %v; want exit 1 saying the change could not be recorded\n%s", exitCodeOf(err), err, out)
			}
			if after, _ := cli(t, e, "policy", "list"); after != before {
				t.Errorf("revisions changed:\nbefore\n%s\nafter\n%s", before, after)
			}
		})
	}

	exec(`DROP TRIGGER refuse_audit`)
	out, err := cli(t, e, "audit", "export", "--format", "csv", "--kind", "admin")
	if err != nil {
		t.Fatal(err)
	}
	// push+activate twice and one push: nothing of the refused changes.
	if n := strings.Count(out, ",admin,"); n != 5 {
		t.Errorf("%d admin records, want 5:\n%s", n, out)
	}
	if out, err := cli(t, e, "policy", "activate", "3", "-m", "go live"); err != nil || !strings.Contains(out, "revision 3 is active") {
		t.Fatalf("activate once the trail accepts records again: %v\n%s", err, out)
	}
	st, err := sqlstore.Open(context.Background(), sqlstore.Config{URL: sqlstore.DefaultSQLiteURL(e["STEPGATE_DATA_DIR"])})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if rep, err := st.VerifyAudit(context.Background()); err != nil || !rep.OK {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}
