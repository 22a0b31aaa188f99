package sqlstore_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// benchRowsEnv sets the table size of BenchmarkSearchAudit; the issue's
// 10-million-row proof is STEPGATE_BENCH_AUDIT_ROWS=10000000.
const benchRowsEnv = "STEPGATE_BENCH_AUDIT_ROWS"

// bulkAudit fills audit_records with n synthetic rows in one statement.
// The rows are not chained: search does not read hashes, and loading through
// AppendAudit would make a 10M-row table take far longer to build.
var bulkAudit = map[sqlstore.Dialect]string{
	sqlstore.SQLite: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO audit_records (chain_id, seq, ts, kind, decision_id, client_id, subject, action, outcome, policy_revision, prev_hash, hash)
		SELECT 'bulk', i, ? + i * 1000, 'decision', 'dec-' || i, 'client-' || (i % 50), 'user-' || (i % 100000),
			'action-' || (i % 20), CASE i % 4 WHEN 0 THEN 'allow' WHEN 1 THEN 'deny' WHEN 2 THEN 'step_up' ELSE 'ciba' END,
			i % 5, '', '' FROM n`,
	sqlstore.Postgres: `INSERT INTO audit_records (chain_id, seq, ts, kind, decision_id, client_id, subject, action, outcome, policy_revision, prev_hash, hash)
		SELECT 'bulk', i, $2::bigint + i * 1000, 'decision', 'dec-' || i, 'client-' || (i % 50), 'user-' || (i % 100000),
			'action-' || (i % 20), CASE i % 4 WHEN 0 THEN 'allow' WHEN 1 THEN 'deny' WHEN 2 THEN 'step_up' ELSE 'ciba' END,
			i % 5, '', '' FROM generate_series(1, $1::bigint) AS i`,
}

func BenchmarkSearchAudit(b *testing.B) {
	rows := 200_000
	if v, err := strconv.Atoi(os.Getenv(benchRowsEnv)); err == nil && v > 0 {
		rows = v
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, be := range sqlstoretest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			be.Require(b)
			s := be.Open(b)
			if err := sqlstore.ExecRaw(b.Context(), s, bulkAudit[s.Dialect()], rows, start.UnixMicro()); err != nil {
				b.Fatalf("load %d rows: %v", rows, err)
			}
			if s.Dialect() == sqlstore.Postgres {
				if err := sqlstore.ExecRaw(b.Context(), s, `ANALYZE audit_records`); err != nil {
					b.Fatal(err)
				}
			}
			first, err := s.SearchAudit(b.Context(), storage.AuditQuery{Limit: 50})
			if err != nil || len(first.Records) != 50 {
				b.Fatalf("first page: %d records, %v", len(first.Records), err)
			}
			mid := start.Add(time.Duration(rows/2) * time.Millisecond)
			queries := []struct {
				name string
				q    storage.AuditQuery
			}{
				{"first page", storage.AuditQuery{Limit: 50}},
				{"second page", storage.AuditQuery{Limit: 50, Cursor: first.NextCursor}},
				{"client", storage.AuditQuery{Limit: 50, ClientID: "client-7"}},
				{"subject", storage.AuditQuery{Limit: 50, Subject: "user-4242"}},
				{"action", storage.AuditQuery{Limit: 50, Action: "action-7"}},
				{"subject and action", storage.AuditQuery{Limit: 50, Subject: "user-4242", Action: "action-2"}},
				{"outcome until mid", storage.AuditQuery{Limit: 50, Outcome: "deny", Until: &mid}},
				{"decision id", storage.AuditQuery{Limit: 50, DecisionID: "dec-" + strconv.Itoa(rows/3)}},
				{"subject prefix, other case", storage.AuditQuery{Limit: 50, SubjectPrefix: "USER-4242"}},
				{"action prefix", storage.AuditQuery{Limit: 50, ActionPrefix: "Action-1"}},
				{"oldest first", storage.AuditQuery{Limit: 50, OldestFirst: true}},
			}
			for _, qc := range []struct {
				name string
				q    storage.AuditQuery
			}{
				{"count all", storage.AuditQuery{}},
				{"count subject prefix", storage.AuditQuery{SubjectPrefix: "user-4242"}},
			} {
				b.Run(qc.name, func(b *testing.B) {
					for b.Loop() {
						if n, err := s.CountAudit(b.Context(), qc.q, 10_000); err != nil || n.N == 0 {
							b.Fatalf("count: %+v, %v", n, err)
						}
					}
				})
			}
			for _, qc := range queries {
				b.Run(qc.name, func(b *testing.B) {
					for b.Loop() {
						page, err := s.SearchAudit(b.Context(), qc.q)
						if err != nil || len(page.Records) == 0 {
							b.Fatalf("search: %d records, %v", len(page.Records), err)
						}
					}
				})
			}
		})
	}
}
