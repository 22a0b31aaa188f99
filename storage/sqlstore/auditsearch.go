package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// Search page sizes.
const (
	defaultSearchLimit = 50
	maxSearchLimit     = 1000
	cursorPrefix       = "v1:"
)

// SearchAudit returns one page newest first, by keyset pagination on
// (ts, id): the cursor carries the last row's key and the next page starts
// strictly below it, so a page costs an index range scan however deep it is.
func (s *Store) SearchAudit(ctx context.Context, q storage.AuditQuery) (storage.AuditPage, error) {
	const op = "search audit"
	limit := q.Limit
	if limit <= 0 {
		limit = defaultSearchLimit
	}
	limit = min(limit, maxSearchLimit)
	db := auditFilter(s.r.WithContext(ctx).Model(&auditRow{}), q)
	if q.Cursor != "" {
		ts, id, err := decodeCursor(q.Cursor)
		if err != nil {
			return storage.AuditPage{}, invalid(op, err.Error())
		}
		db = db.Where("(ts, id) < (?, ?)", ts, id)
	}
	rows, err := db.Select(auditColumns).Order("ts DESC, id DESC").Limit(limit + 1).Rows()
	if err != nil {
		return storage.AuditPage{}, wrap(op, err)
	}
	defer rows.Close()
	page := storage.AuditPage{Records: make([]storage.AuditRecord, 0, min(limit, 64))}
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return storage.AuditPage{}, wrap(op, err)
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return storage.AuditPage{}, wrap(op, err)
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		last := page.Records[limit-1]
		page.NextCursor = encodeCursor(toMicros(last.Time), last.ID)
	}
	return page, nil
}

// ExportAudit streams every matching record through fn from an open rows
// cursor; memory use does not depend on the number of rows.
func (s *Store) ExportAudit(ctx context.Context, q storage.AuditQuery, fn func(storage.AuditRecord) error) error {
	const op = "export audit"
	order := "ts DESC, id DESC"
	if q.ChainOrder {
		order = "chain_id, seq"
	}
	rows, err := auditFilter(s.r.WithContext(ctx).Model(&auditRow{}), q).
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

// auditFilter applies the query's filters. Since is inclusive, Until exclusive.
func auditFilter(db *gorm.DB, q storage.AuditQuery) *gorm.DB {
	if q.Since != nil {
		db = db.Where("ts >= ?", toMicros(*q.Since))
	}
	if q.Until != nil {
		db = db.Where("ts < ?", toMicros(*q.Until))
	}
	// A fixed order keeps the SQL text stable for prepared-statement caches.
	for _, f := range [...]struct{ col, v string }{
		{"client_id", q.ClientID}, {"subject", q.Subject}, {"action", q.Action},
		{"outcome", q.Outcome}, {"decision_id", q.DecisionID}, {"kind", q.Kind},
	} {
		if f.v != "" {
			db = db.Where(f.col+" = ?", f.v)
		}
	}
	if q.PolicyRevision != 0 {
		db = db.Where("policy_revision = ?", q.PolicyRevision)
	}
	return db
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

func encodeCursor(ts, id int64) string {
	return base64.RawURLEncoding.EncodeToString(
		[]byte(cursorPrefix + strconv.FormatInt(ts, 10) + ":" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (ts, id int64, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) {
		return 0, 0, fmt.Errorf("malformed cursor %q", c)
	}
	tsStr, idStr, ok := strings.Cut(strings.TrimPrefix(string(raw), cursorPrefix), ":")
	if !ok {
		return 0, 0, fmt.Errorf("malformed cursor %q", c)
	}
	if ts, err = strconv.ParseInt(tsStr, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("malformed cursor %q", c)
	}
	if id, err = strconv.ParseInt(idStr, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("malformed cursor %q", c)
	}
	return ts, id, nil
}
