package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// Search page sizes.
const (
	defaultSearchLimit = 50
	maxSearchLimit     = 1000
	// cursorV1 cursors (newest first, forward) are still read so that
	// links made before v2 keep working.
	cursorV1 = "v1:"
	cursorV2 = "v2:"
)

// SearchAudit returns one page in the query's order by keyset pagination
// on (ts, id): a cursor carries the key of a page's first or last row and
// the page it leads to starts strictly beyond it, so a page costs an index
// range scan however deep it is. Going back scans the other way and
// reverses the rows.
func (s *Store) SearchAudit(ctx context.Context, q storage.AuditQuery) (storage.AuditPage, error) {
	const op = "search audit"
	limit := q.Limit
	if limit <= 0 {
		limit = defaultSearchLimit
	}
	limit = min(limit, maxSearchLimit)
	cur := pageCursor{oldestFirst: q.OldestFirst, forward: true}
	if q.Cursor != "" {
		var err error
		if cur, err = decodeCursor(q.Cursor); err != nil {
			return storage.AuditPage{}, invalid(op, err.Error())
		}
		if cur.oldestFirst != q.OldestFirst {
			return storage.AuditPage{}, invalid(op, "the cursor belongs to a search in the other order")
		}
	}
	// Scan ascending when the display order is, or when going back from a
	// newest-first page; descending otherwise.
	ascending := q.OldestFirst == cur.forward
	byTime, err := s.prefixIsDense(ctx, q)
	if err != nil {
		return storage.AuditPage{}, wrap(op, err)
	}
	db := s.filter(s.r.WithContext(ctx).Model(&auditRow{}), q, byTime)
	order := "ts DESC, id DESC"
	if ascending {
		order = "ts, id"
	}
	if q.Cursor != "" {
		cmp := "<"
		if ascending {
			cmp = ">"
		}
		db = db.Where("(ts, id) "+cmp+" (?, ?)", cur.ts, cur.id)
	}
	rows, err := db.Select(auditColumns).Order(order).Limit(limit + 1).Rows()
	if err != nil {
		return storage.AuditPage{}, wrap(op, err)
	}
	defer rows.Close()
	recs := make([]storage.AuditRecord, 0, min(limit, 64))
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return storage.AuditPage{}, wrap(op, err)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return storage.AuditPage{}, wrap(op, err)
	}
	beyond := len(recs) > limit
	recs = recs[:min(len(recs), limit)]
	if !cur.forward {
		slices.Reverse(recs)
	}
	page := storage.AuditPage{Records: recs}
	if len(recs) == 0 {
		return page, nil
	}
	first, last := recs[0], recs[len(recs)-1]
	// Forward, rows beyond the page mean a next page and a cursor means a
	// previous one; going back, the other way round.
	hasNext, hasPrev := beyond, q.Cursor != ""
	if !cur.forward {
		hasNext, hasPrev = true, beyond
	}
	if hasNext {
		page.NextCursor = pageCursor{q.OldestFirst, true, toMicros(last.Time), last.ID}.encode()
	}
	if hasPrev {
		page.PrevCursor = pageCursor{q.OldestFirst, false, toMicros(first.Time), first.ID}.encode()
	}
	return page, nil
}

// CountAudit counts the records matching q, reading at most bound+1.
func (s *Store) CountAudit(ctx context.Context, q storage.AuditQuery, bound int64) (storage.AuditCount, error) {
	const op = "count audit"
	if bound <= 0 {
		return storage.AuditCount{}, invalid(op, "the bound must be positive")
	}
	sub := s.auditFilter(s.r.WithContext(ctx).Model(&auditRow{}), q).Select("1").Limit(int(min(bound, math.MaxInt32)) + 1)
	var n int64
	if err := s.r.WithContext(ctx).Raw("SELECT count(*) FROM (?) AS matched", sub).Scan(&n).Error; err != nil {
		return storage.AuditCount{}, wrap(op, err)
	}
	if n > bound {
		return storage.AuditCount{N: bound, More: true}, nil
	}
	return storage.AuditCount{N: n}, nil
}

// ExportAudit streams every matching record through fn from an open rows
// cursor; memory use does not depend on the number of rows.
func (s *Store) ExportAudit(ctx context.Context, q storage.AuditQuery, fn func(storage.AuditRecord) error) error {
	const op = "export audit"
	order := "ts DESC, id DESC"
	switch {
	case q.ChainOrder:
		order = "chain_id, seq"
	case q.OldestFirst:
		order = "ts, id"
	}
	rows, err := s.auditFilter(s.r.WithContext(ctx).Model(&auditRow{}), q).
		Select(auditColumns).Order(order).Rows()
	if err != nil {
		return wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return wrap(op, err)
		}
		if err := fn(r); err != nil {
			return fmt.Errorf("sqlstore: %s: record %d: %w", op, r.ID, err)
		}
	}
	return wrap(op, rows.Err())
}

// denseMatches is how many rows a prefix must match for SQLite to find a
// page faster by walking the time index than by sorting the matches. A
// variable only so that tests can force either plan.
var denseMatches int64 = 2000

// prefixIsDense reports whether SQLite should walk a prefix search in time
// order. Its planner, which has no statistics on how many rows a range
// matches, always picks the prefix index and sorts every match: right for
// "alice", ruinous for "billing" on millions of rows. A count bounded at
// denseMatches through that same index (cheap either way) tells the two
// apart. PostgreSQL's planner makes this choice itself from statistics.
func (s *Store) prefixIsDense(ctx context.Context, q storage.AuditQuery) (bool, error) {
	if s.dialect != SQLite || (q.SubjectPrefix == "" && q.ActionPrefix == "") {
		return false, nil
	}
	n, err := s.CountAudit(ctx, q, denseMatches)
	return n.More, err
}

// auditFilter applies the query's filters. Since is inclusive, Until exclusive.
func (s *Store) auditFilter(db *gorm.DB, q storage.AuditQuery) *gorm.DB {
	return s.filter(db, q, false)
}

// filter is auditFilter; byTime keeps SQLite from using the prefix indexes
// (see prefixIsDense).
func (s *Store) filter(db *gorm.DB, q storage.AuditQuery, byTime bool) *gorm.DB {
	if q.Since != nil {
		db = db.Where("ts >= ?", toMicros(*q.Since))
	}
	if q.Until != nil {
		db = db.Where("ts < ?", toMicros(*q.Until))
	}
	// A fixed order keeps the SQL text stable for prepared-statement caches.
	for _, f := range [...]struct{ col, v string }{
		{"client_id", q.ClientID}, {"outcome", q.Outcome}, {"decision_id", q.DecisionID}, {"kind", q.Kind},
	} {
		if f.v != "" {
			db = db.Where(f.col+" = ?", f.v)
		}
	}
	if q.Subject != "" {
		db = s.foldedExact(db, "subject", q.Subject, false)
	}
	if q.Action != "" {
		// Given both, SQLite, which cannot tell which matches fewer rows,
		// would walk the action's; a subject is by far the rarer value.
		db = s.foldedExact(db, "action", q.Action, q.Subject != "")
	}
	if q.PolicyRevision != 0 {
		db = db.Where("policy_revision = ?", q.PolicyRevision)
	}
	if q.SubjectPrefix != "" {
		db = s.foldedPrefix(db, "subject", q.SubjectPrefix, byTime)
	}
	if q.ActionPrefix != "" {
		db = s.foldedPrefix(db, "action", q.ActionPrefix, byTime)
	}
	return db
}

// maxRune ends the range of strings that start with a prefix: every
// continuation sorts below prefix+U+10FFFF in byte order, except one
// starting with that noncharacter itself.
const maxRune = "\U0010FFFF"

// foldedPrefix keeps rows whose lower(col) starts with lower(prefix), as a
// range in byte order that the migration-7 expression indexes serve. The
// expression must read exactly as in those indexes for the planner to use
// them. LIKE would not do: its case rules and index use differ between the
// backends. With noIndex, SQLite's unary + (a no-op on the value) takes the
// term out of index selection.
func (s *Store) foldedPrefix(db *gorm.DB, col, prefix string, noIndex bool) *gorm.DB {
	expr := "lower(" + col + ")"
	switch {
	case s.dialect == Postgres:
		expr += ` COLLATE "C"`
	case noIndex:
		expr = "+" + expr
	}
	return db.Where(expr+" >= lower(?) AND "+expr+" < lower(?) || ?", prefix, prefix, maxRune)
}

// foldedExact keeps rows whose col equals v exactly. Subject and action
// have no plain index since migration 9: the equality on lower(col),
// written exactly as in the migration-7 expression indexes, lets the
// planner find the rows, already in (ts, id) order, there; the plain
// equality, true only where the folded one is, keeps the match exact. On
// SQLite that term needs the unary +: from a bare "col = ?" its constant
// propagation would rewrite lower(col) into lower(?), leaving no term for
// the index, and walk the whole time index instead. noIndex keeps SQLite
// from using the fold index for this term (see foldedPrefix).
func (s *Store) foldedExact(db *gorm.DB, col, v string, noIndex bool) *gorm.DB {
	expr, exact := "lower("+col+")", col
	if s.dialect == Postgres {
		expr += ` COLLATE "C"`
	} else {
		exact = "+" + col
		if noIndex {
			expr = "+" + expr
		}
	}
	return db.Where(expr+" = lower(?) AND "+exact+" = ?", v, v)
}

// scanAudit reads one row selected with auditColumns.
func scanAudit(rows *sql.Rows) (storage.AuditRecord, error) {
	var r auditRow
	var input, detail []byte
	if err := rows.Scan(&r.ID, &r.ChainID, &r.Seq, &r.Ts, &r.Kind, &r.DecisionID, &r.RequestID,
		&r.ClientID, &r.Subject, &r.Issuer, &r.Action, &r.ResourceType, &r.ResourceID, &r.Outcome,
		&r.Reasons, &r.PolicyRevision, &r.PolicyHash, &r.LatencyMicros, &input, &r.InputDigest,
		&r.StepUpID, &r.CIBAID, &r.Actor, &detail, &r.PrevHash, &r.Hash); err != nil {
		return storage.AuditRecord{}, fmt.Errorf("scan audit record: %w", err)
	}
	// Scanning into []byte copies, so the record owns its bytes after Next.
	r.Input, r.Detail = input, detail
	return r.toRecord()
}

// pageCursor is the key of a page's edge row, the search order it was
// made for, and whether it leads forward (after the row) or back.
type pageCursor struct {
	oldestFirst, forward bool
	ts, id               int64
}

func (c pageCursor) encode() string {
	order, dir := "d", "b"
	if c.oldestFirst {
		order = "a"
	}
	if c.forward {
		dir = "f"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorV2 + order + ":" + dir + ":" +
		strconv.FormatInt(c.ts, 10) + ":" + strconv.FormatInt(c.id, 10)))
}

func decodeCursor(s string) (pageCursor, error) {
	bad := fmt.Errorf("malformed cursor %q", s)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageCursor{}, bad
	}
	c := pageCursor{forward: true}
	var key []string
	switch text := string(raw); {
	case strings.HasPrefix(text, cursorV1):
		key = strings.Split(strings.TrimPrefix(text, cursorV1), ":")
	case strings.HasPrefix(text, cursorV2):
		parts := strings.Split(strings.TrimPrefix(text, cursorV2), ":")
		if len(parts) != 4 || (parts[0] != "a" && parts[0] != "d") || (parts[1] != "f" && parts[1] != "b") {
			return pageCursor{}, bad
		}
		c.oldestFirst, c.forward, key = parts[0] == "a", parts[1] == "f", parts[2:]
	default:
		return pageCursor{}, bad
	}
	if len(key) != 2 {
		return pageCursor{}, bad
	}
	if c.ts, err = strconv.ParseInt(key[0], 10, 64); err != nil {
		return pageCursor{}, bad
	}
	if c.id, err = strconv.ParseInt(key[1], 10, 64); err != nil {
		return pageCursor{}, bad
	}
	return c, nil
}
