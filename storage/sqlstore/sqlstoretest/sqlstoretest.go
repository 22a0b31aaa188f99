// Package sqlstoretest opens throwaway sqlstore databases for tests: a SQLite
// file in a temporary directory, or a fresh schema on the PostgreSQL server
// named by STEPGATE_TEST_POSTGRES_URL, dropped when the test ends.
//
// Without that variable the PostgreSQL helpers skip the test, except when
// CI=true: CI must run the suite against a real server, so a missing or
// unreachable server fails the test instead.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepgate/stepgate/storage/sqlstore"
)

// PostgresURLEnv names the environment variable holding the PostgreSQL DSN
// for tests, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresURLEnv = "STEPGATE_TEST_POSTGRES_URL"

// Backend names a way to open a fresh store.
type Backend struct {
	Name string
	// Require skips or fails t when the backend is unavailable; call it once
	// before a group of subtests so a skip is reported once.
	Require func(t testing.TB)
	// Open returns a fresh, empty store closed at cleanup.
	Open func(t testing.TB) *sqlstore.Store
}

// Backends returns the SQLite and PostgreSQL backends.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", Require: func(testing.TB) {}, Open: NewSQLite},
		{Name: "postgres", Require: func(t testing.TB) { t.Helper(); PostgresURL(t) }, Open: NewPostgres},
	}
}

// NewSQLite opens a store on a new SQLite file in t.TempDir().
func NewSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, sqlstore.DefaultSQLiteURL(t.TempDir()))
}

// NewPostgres opens a store on a new, empty schema of the test PostgreSQL
// server, dropped at cleanup, so tests and packages can run in parallel.
func NewPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, PostgresSchemaURL(t))
}

// PostgresSchemaURL creates a fresh schema on the test server and returns a
// DSN whose search_path selects it. The schema is dropped at cleanup.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	dsn := PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s=%q: %v", PostgresURLEnv, dsn, err)
	}
	defer conn.Close(ctx)
	schema := "sgtest_" + randomHex(t)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() { dropSchema(t, dsn, schema) })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresURLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresURL returns the test server DSN, skipping the test when it is not
// configured outside CI and failing it inside CI.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresURLEnv)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must run the PostgreSQL suite", PostgresURLEnv)
		}
		t.Skipf("%s is not set; skipping PostgreSQL", PostgresURLEnv)
	}
	return dsn
}

func open(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := sqlstore.Open(ctx, sqlstore.Config{URL: dsn, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

func dropSchema(t testing.TB, dsn, schema string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Errorf("connect to drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}

func randomHex(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random schema name: %v", err)
	}
	return hex.EncodeToString(b)
}

func discardLogger() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}
