package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stepgate/stepgate/storage"
)

// Rows per INSERT statement. PostgreSQL binds parameters in linear time,
// so a chunk there is bounded only by its 65535-parameter limit (25 per
// row) and every chunk saves a round trip. SQLite runs in the process, and
// its driver (glebarez/go-sqlite) prepares and finalizes every statement
// on every execution, even a prepared one, and matches placeholders against
// arguments in quadratic time: a one-row INSERT per record spent about as
// much CPU parsing and compiling the statement (the INSERT and the code for
// each index) as executing it, and a chunk of hundreds of rows spent it
// matching placeholders. Sixteen rows per statement halved the CPU per
// indexed record against one (BenchmarkAppendAudit/sqlite/batch-250: 8.1 →
// 4.6 s of user CPU for 50,000 records; 32 rows was no better).
const (
	insertRowsPostgres = 250
	insertRowsSQLite   = 16
)

// insertColumns are the audit_records columns the appender writes, in
// argument order; id is assigned by the database and returned.
const insertColumns = "chain_id, seq, ts, kind, decision_id, request_id, client_id, subject, issuer, " +
	"action, resource_type, resource_id, outcome, reasons, policy_revision, policy_hash, latency_micros, " +
	"input, input_digest, step_up_id, ciba_id, actor, detail, prev_hash, hash"

const insertColumnCount = 25

// sqlConn is what the appender needs of a transaction: *sql.Tx, or gorm's
// ConnPool inside a gorm transaction.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// appender appends one batch inside one transaction.
type appender struct {
	ctx     context.Context
	conn    sqlConn
	dialect Dialect
	heads   *chainHeads
	// advanced collects the heads written, for chainHeads after commit.
	advanced []chainHead
}

// append links, hashes and inserts work (sanitised records) and advances
// the head of every chain it touches, in chain id order.
func (a *appender) append(work []storage.AuditRecord) error {
	byChain := map[string][]int{}
	var ids []string
	for i := range work {
		id := work[i].ChainID
		if _, ok := byChain[id]; !ok {
			ids = append(ids, id)
		}
		byChain[id] = append(byChain[id], i)
	}
	slices.Sort(ids)
	for _, id := range ids {
		h, err := a.advance(id, work, byChain[id])
		if err != nil {
			return err
		}
		a.advanced = append(a.advanced, h)
	}
	return a.insert(work, byChain)
}

// advance links the records of one chain onto its head and moves the head
// past them. With a remembered head it is one UPDATE that only matches if
// the table still holds that head; otherwise, or when it matched nothing,
// the head row is created if missing and locked, and the records relinked.
func (a *appender) advance(chainID string, work []storage.AuditRecord, idx []int) (chainHead, error) {
	if h, ok := a.heads.get(chainID); ok {
		next := link(h, work, idx)
		res, err := a.conn.ExecContext(a.ctx, a.sql(`UPDATE audit_chains SET last_seq = ?, last_hash = ?
			WHERE chain_id = ? AND last_seq = ? AND last_hash = ?`), next.seq, next.hash, chainID, h.seq, h.hash)
		if err != nil {
			return chainHead{}, fmt.Errorf("advance chain head %q: %w", chainID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return chainHead{}, fmt.Errorf("advance chain head %q: %w", chainID, err)
		} else if n == 1 {
			return next, nil
		}
	}
	h, err := a.lockHead(chainID)
	if err != nil {
		return chainHead{}, err
	}
	next := link(h, work, idx)
	if _, err := a.conn.ExecContext(a.ctx, a.sql(`UPDATE audit_chains SET last_seq = ?, last_hash = ? WHERE chain_id = ?`),
		next.seq, next.hash, chainID); err != nil {
		return chainHead{}, fmt.Errorf("advance chain head %q: %w", chainID, err)
	}
	return next, nil
}

// lockHead reads the head row of chainID, creating it when missing, and
// locks it until the transaction ends (FOR UPDATE on PostgreSQL; SQLite
// write transactions are exclusive).
func (a *appender) lockHead(chainID string) (chainHead, error) {
	lock := ""
	if a.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	read := a.sql(`SELECT last_seq, last_hash FROM audit_chains WHERE chain_id = ?` + lock)
	h := chainHead{chainID: chainID}
	err := a.conn.QueryRowContext(a.ctx, read, chainID).Scan(&h.seq, &h.hash)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := a.conn.ExecContext(a.ctx, a.sql(`INSERT INTO audit_chains (chain_id, last_seq, last_hash)
			VALUES (?, 0, '') ON CONFLICT (chain_id) DO NOTHING`), chainID); err != nil {
			return chainHead{}, fmt.Errorf("create chain head %q: %w", chainID, err)
		}
		err = a.conn.QueryRowContext(a.ctx, read, chainID).Scan(&h.seq, &h.hash)
	}
	if err != nil {
		return chainHead{}, fmt.Errorf("lock chain head %q: %w", chainID, err)
	}
	return h, nil
}

// link numbers, links and hashes the records idx of work after head h and
// returns the new head.
func link(h chainHead, work []storage.AuditRecord, idx []int) chainHead {
	for _, i := range idx {
		r := &work[i]
		r.Seq, r.PrevHash, r.ID = h.seq+1, h.hash, 0
		r.Hash = storage.ComputeAuditHash(*r)
		h.seq, h.hash = r.Seq, r.Hash
	}
	return h
}

// insert writes work in multi-row INSERT statements and stores the ids the
// database assigned. Rows come back in no guaranteed order, so each is
// matched by its (chain id, seq).
func (a *appender) insert(work []storage.AuditRecord, byChain map[string][]int) error {
	chunk := insertRowsPostgres
	if a.dialect != Postgres {
		chunk = insertRowsSQLite
	}
	args := make([]any, 0, min(chunk, len(work))*insertColumnCount)
	for start := 0; start < len(work); start += chunk {
		part := work[start:min(start+chunk, len(work))]
		args = args[:0]
		for i := range part {
			var err error
			if args, err = appendRowArgs(args, &part[i]); err != nil {
				return err
			}
		}
		if err := a.insertChunk(len(part), args, work, byChain); err != nil {
			return err
		}
	}
	return nil
}

func (a *appender) insertChunk(n int, args []any, work []storage.AuditRecord, byChain map[string][]int) error {
	rows, err := a.conn.QueryContext(a.ctx, a.insertSQL(n), args...)
	if err != nil {
		return fmt.Errorf("insert records: %w", err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var (
			id, seq int64
			chain   sql.RawBytes
		)
		if err := rows.Scan(&id, &chain, &seq); err != nil {
			return fmt.Errorf("insert records: read ids: %w", err)
		}
		idx := byChain[string(chain)]
		if len(idx) == 0 {
			return fmt.Errorf("insert records: database returned unknown chain %q", chain)
		}
		pos := seq - work[idx[0]].Seq
		if pos < 0 || pos >= int64(len(idx)) {
			return fmt.Errorf("insert records: database returned unknown seq %d of chain %q", seq, chain)
		}
		work[idx[pos]].ID = id
		got++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert records: %w", err)
	}
	if got != n {
		return fmt.Errorf("insert records: database returned %d ids for %d rows", got, n)
	}
	return nil
}

// appendRowArgs appends r's column values in insertColumns order.
func appendRowArgs(args []any, r *storage.AuditRecord) ([]any, error) {
	reasons, err := encodeReasons(r.Reasons)
	if err != nil {
		return nil, err
	}
	return append(args, r.ChainID, r.Seq, toMicros(r.Time), r.Kind, r.DecisionID, r.RequestID,
		r.ClientID, r.Subject, r.Issuer, r.Action, r.ResourceType, r.ResourceID, r.Outcome, reasons,
		r.PolicyRevision, r.PolicyHash, r.LatencyMicros, r.Input, r.InputDigest, r.StepUpID,
		r.CIBAID, r.Actor, r.Detail, r.PrevHash, r.Hash), nil
}

// insertSQL is the INSERT of n rows, returning (id, chain_id, seq).
func (a *appender) insertSQL(n int) string {
	var b strings.Builder
	b.Grow(len(insertColumns) + 64 + n*(insertColumnCount*5+4))
	if a.dialect == Postgres {
		b.WriteString("INSERT INTO audit_records (")
	} else {
		// OR ROLLBACK: a failing row aborts the whole transaction (the
		// batch fails as a unit anyway), which spares SQLite the statement
		// journal it keeps, in a temporary file, to undo a multi-row
		// statement's earlier rows.
		b.WriteString("INSERT OR ROLLBACK INTO audit_records (")
	}
	b.WriteString(insertColumns)
	b.WriteString(") VALUES ")
	p := 0
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range insertColumnCount {
			if c > 0 {
				b.WriteByte(',')
			}
			p++
			if a.dialect == Postgres {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	// SQLite has RETURNING since 3.35; rows come back in no set order on
	// either database.
	b.WriteString(" RETURNING id, chain_id, seq")
	return b.String()
}

// sql rewrites ? placeholders to $n on PostgreSQL. Queries passed to it
// contain no other question marks.
func (a *appender) sql(q string) string {
	if a.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, part := range strings.SplitAfter(q, "?") {
		if strings.HasSuffix(part, "?") {
			n++
			b.WriteString(part[:len(part)-1])
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteString(part)
	}
	return b.String()
}

// encodeReasons is the stored form of reasons: a JSON array, "[]" when empty.
func encodeReasons(reasons []string) (string, error) {
	if len(reasons) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(reasons)
	if err != nil {
		return "", fmt.Errorf("encode reasons: %w", err)
	}
	return string(b), nil
}
