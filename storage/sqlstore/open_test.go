package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// reopenable returns, per backend, a URL that survives closing the store.
func reopenable(t *testing.T) map[string]func(t *testing.T) string {
	t.Helper()
	return map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return sqlstore.DefaultSQLiteURL(t.TempDir()) },
		"postgres": func(t *testing.T) string {
			t.Helper()
			return sqlstoretest.PostgresSchemaURL(t)
		},
	}
}

func openURL(t testing.TB, url string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), sqlstore.Config{URL: url})
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return s
}

// TestChainSurvivesRestart proves the chain head lives in the database: a
// new process continues the chain where the old one stopped.
func TestChainSurvivesRestart(t *testing.T) {
	for name, mkURL := range reopenable(t) {
		t.Run(name, func(t *testing.T) {
			url := mkURL(t)
			first := openURL(t, url)
			recs := []storage.AuditRecord{fixtureRecord("replica-1", 0), fixtureRecord("replica-1", 1)}
			if err := first.AppendAudit(t.Context(), recs); err != nil {
				t.Fatalf("append before restart: %v", err)
			}
			if err := first.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			second := openURL(t, url)
			defer second.Close()
			next := []storage.AuditRecord{fixtureRecord("replica-1", 2)}
			if err := second.AppendAudit(t.Context(), next); err != nil {
				t.Fatalf("append after restart: %v", err)
			}
			if next[0].Seq != 3 || next[0].PrevHash != recs[1].Hash {
				t.Errorf("after restart seq %d prev %q, want 3 linked to %q", next[0].Seq, next[0].PrevHash, recs[1].Hash)
			}
			rep, err := second.VerifyAudit(t.Context())
			if err != nil || !rep.OK || rep.Checked != 3 {
				t.Errorf("verify after restart = %+v, %v", rep, err)
			}
		})
	}
}

func TestMigrations(t *testing.T) {
	for name, mkURL := range reopenable(t) {
		t.Run(name, func(t *testing.T) {
			url := mkURL(t)
			s := openURL(t, url)
			v, err := s.SchemaVersion(t.Context())
			if err != nil || v < 2 {
				t.Fatalf("schema version = %d, %v; want at least 2", v, err)
			}
			if err := s.SetSetting(t.Context(), "kept", "yes"); err != nil {
				t.Fatalf("set setting: %v", err)
			}
			s.Close()

			again := openURL(t, url)
			if got, err := again.GetSetting(t.Context(), "kept"); err != nil || got != "yes" {
				t.Errorf("reopening lost data: %q, %v", got, err)
			}
			if v2, _ := again.SchemaVersion(t.Context()); v2 != v {
				t.Errorf("reopening changed the schema version from %d to %d", v, v2)
			}
			if err := sqlstore.ExecRaw(t.Context(), again, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
				t.Fatalf("insert future migration: %v", err)
			}
			again.Close()
			_, err = sqlstore.Open(t.Context(), sqlstore.Config{URL: url})
			if err == nil || !strings.Contains(err.Error(), "newer") {
				t.Errorf("opening a newer schema: err = %v, want a refusal", err)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	tests := []struct {
		name, url string
	}{
		{"empty", ""},
		{"in-memory", "sqlite::memory:"},
		{"query in path", "sqlite://" + filepath.Join(t.TempDir(), "x.db?mode=ro")},
		{"unreachable postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlstore.Open(context.Background(), sqlstore.Config{URL: tc.url})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.url)
			}
			if errors.Is(err, storage.ErrNotFound) {
				t.Errorf("unexpected sentinel: %v", err)
			}
		})
	}
}

func TestSQLitePools(t *testing.T) {
	s := sqlstoretest.NewSQLite(t)
	if s.Dialect() != sqlstore.SQLite {
		t.Fatalf("dialect = %q", s.Dialect())
	}
	// A long export holds a reader connection; writes must still go through.
	if err := s.AppendAudit(t.Context(), []storage.AuditRecord{fixtureRecord("a", 0), fixtureRecord("a", 1)}); err != nil {
		t.Fatalf("append: %v", err)
	}
	err := s.ExportAudit(t.Context(), storage.AuditQuery{}, func(storage.AuditRecord) error {
		return s.AppendAudit(t.Context(), []storage.AuditRecord{fixtureRecord("b", 0)})
	})
	if err != nil {
		t.Fatalf("append during export: %v", err)
	}
	page, err := s.SearchAudit(t.Context(), storage.AuditQuery{ClientID: "billing-svc"})
	if err != nil || len(page.Records) != 4 {
		t.Errorf("after export: %d records, %v; want 4", len(page.Records), err)
	}
}
