package admin_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// TestAdminChangesWithAuditInsertRevoked runs the real admin services on
// PostgreSQL as a role that may write everything except audit records (an
// operator's REVOKE, or a misconfigured grant): each change fails with a
// clear error and nothing changes, then the trail still verifies.
func TestAdminChangesWithAuditInsertRevoked(t *testing.T) {
	ctx := t.Context()
	dsn := sqlstoretest.PostgresSchemaURL(t)
	owner := openStore(t, dsn)
	setup := newLifecycle(t, owner, storeLog{owner})
	files := defaultFiles(t)
	first, _, err := setup.policies.Push(ctx, "setup", files, "first", true)
	if err != nil {
		t.Fatal(err)
	}
	draft, _, err := setup.policies.Push(ctx, "setup", withFile(files, "draft.rego", "package draft\n"), "draft", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.clients.Create(ctx, "setup", admin.ClientSettings{ID: "billing", Name: "Billing"}, "setup"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.EnsureBootstrapPassword(ctx, owner, setup.recorder, "setup", "the-first-password"); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, owner)

	limited := openStore(t, roleWithoutAuditInsert(t, dsn))
	l := newLifecycle(t, limited, storeLog{limited})
	changes := []struct {
		name string
		run  func() error
	}{
		{"policy activate", func() error { _, err := l.policies.Activate(ctx, "alice", draft.ID, "go live"); return err }},
		{"policy push --activate", func() error {
			_, _, err := l.policies.Push(ctx, "alice", withFile(files, "other.rego", "package other\n"), "m", true)
			return err
		}},
		{"client revoke", func() error { return l.clients.Revoke(ctx, "alice", "billing", "ticket 3") }},
	}
	for _, c := range changes {
		err := c.run()
		if err == nil || !strings.Contains(err.Error(), "record admin change") || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s: error = %v, want it to say the change could not be recorded (permission denied)", c.name, err)
		}
		if after := takeSnapshot(t, owner); after.active != first.ID || after.revisions != before.revisions ||
			after.client.Disabled || after.records != before.records {
			t.Errorf("%s changed the store:\nbefore %+v\nafter  %+v", c.name, before, after)
		}
	}
	if len(l.activated) != 0 || l.changed != 0 {
		t.Errorf("side effects of uncommitted changes ran: activated %v, cache flushed %d times", l.activated, l.changed)
	}
	rep, err := owner.VerifyAudit(ctx)
	if err != nil || !rep.OK {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}

func openStore(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), sqlstore.Config{URL: dsn, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// roleWithoutAuditInsert creates a login role that may read and write every
// table of dsn's schema but not insert audit records, and returns dsn
// connecting as it. The role is dropped at cleanup.
func roleWithoutAuditInsert(t testing.TB, dsn string) string {
	t.Helper()
	ctx := context.Background()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	role, password := "sgrole_"+hex.EncodeToString(b), hex.EncodeToString(b)+"-pw"
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'",
		"GRANT USAGE, CREATE ON SCHEMA " + schema + " TO " + role,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + role,
		"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + role,
		"REVOKE INSERT ON " + schema + ".audit_records FROM " + role,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop role %s: %v", role, err)
			return
		}
		defer conn.Close(ctx)
		for _, q := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := conn.Exec(ctx, q); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	u.User = url.UserPassword(role, password)
	return u.String()
}
