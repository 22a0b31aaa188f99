package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// cibaRequestRow maps ciba_requests; optional times are NULL when zero.
type cibaRequestRow struct {
	ID             string `gorm:"primaryKey"`
	DecisionID     string
	Issuer         string
	AuthReqID      string
	Status         string
	IntervalMicros int64
	NextPollAt     *int64
	ExpiresAt      *int64
	LeaseOwner     string
	LeaseUntil     *int64
	IDToken        string
	Claims         []byte
	Error          string
	CreatedAt      int64 `gorm:"autoCreateTime:false"`
	UpdatedAt      int64 `gorm:"autoUpdateTime:false"`
}

func (cibaRequestRow) TableName() string { return "ciba_requests" }

func optMicros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	us := t.UnixMicro()
	return &us
}

func fromOptMicros(us *int64) time.Time {
	if us == nil {
		return time.Time{}
	}
	return fromMicros(*us)
}

func cibaRequestToRow(r storage.CIBARequest) cibaRequestRow {
	return cibaRequestRow{ID: r.ID, DecisionID: r.DecisionID, Issuer: r.Issuer, AuthReqID: r.AuthReqID,
		Status: r.Status, IntervalMicros: r.Interval.Microseconds(), NextPollAt: optMicros(r.NextPollAt),
		ExpiresAt: optMicros(r.ExpiresAt), LeaseOwner: r.LeaseOwner, LeaseUntil: optMicros(r.LeaseUntil),
		IDToken: r.IDToken, Claims: r.Claims, Error: r.Error,
		CreatedAt: toMicros(r.CreatedAt), UpdatedAt: toMicros(r.UpdatedAt)}
}

func (r cibaRequestRow) toCIBARequest() storage.CIBARequest {
	return storage.CIBARequest{ID: r.ID, DecisionID: r.DecisionID, Issuer: r.Issuer, AuthReqID: r.AuthReqID,
		Status: r.Status, Interval: time.Duration(r.IntervalMicros) * time.Microsecond,
		NextPollAt: fromOptMicros(r.NextPollAt), ExpiresAt: fromOptMicros(r.ExpiresAt),
		LeaseOwner: r.LeaseOwner, LeaseUntil: fromOptMicros(r.LeaseUntil), IDToken: r.IDToken,
		Claims: r.Claims, Error: r.Error, CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt)}
}

// SaveCIBARequest inserts a new request; ErrAlreadyExists on a duplicate id.
func (s *Store) SaveCIBARequest(ctx context.Context, r storage.CIBARequest) error {
	if r.ID == "" || r.Status == "" {
		return invalid("save ciba request", "id and status are required")
	}
	row := cibaRequestToRow(r)
	return wrap("save ciba request", s.w.WithContext(ctx).Create(&row).Error)
}

// UpdateCIBARequest replaces every field of the request r.ID, but only while
// its stored lease owner is owner: ErrConflict when another replica holds
// it (or nobody does), ErrNotFound when there is no such request.
func (s *Store) UpdateCIBARequest(ctx context.Context, r storage.CIBARequest, owner string) error {
	const op = "update ciba request"
	row := cibaRequestToRow(r)
	res := s.w.WithContext(ctx).Exec(`UPDATE ciba_requests SET decision_id = ?, issuer = ?, auth_req_id = ?, status = ?,
		interval_micros = ?, next_poll_at = ?, expires_at = ?, lease_owner = ?, lease_until = ?, id_token = ?,
		claims = ?, error = ?, created_at = ?, updated_at = ? WHERE id = ? AND lease_owner = ?`,
		row.DecisionID, row.Issuer, row.AuthReqID, row.Status, row.IntervalMicros, row.NextPollAt, row.ExpiresAt,
		row.LeaseOwner, row.LeaseUntil, row.IDToken, row.Claims, row.Error, row.CreatedAt, row.UpdatedAt, row.ID, owner)
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return s.leaseMiss(ctx, op, r.ID, owner)
}

// leaseMiss says why a conditional update matched nothing.
func (s *Store) leaseMiss(ctx context.Context, op, id, owner string) error {
	var held string
	if err := s.w.WithContext(ctx).Raw(`SELECT lease_owner FROM ciba_requests WHERE id = ?`, id).Row().Scan(&held); err != nil {
		return wrap(op, translateNoRows(err))
	}
	return fmt.Errorf("sqlstore: %s %s as %q (held by %q): %w", op, id, owner, held, storage.ErrConflict)
}

// GetCIBARequest returns one request, or ErrNotFound.
func (s *Store) GetCIBARequest(ctx context.Context, id string) (storage.CIBARequest, error) {
	var row cibaRequestRow
	if err := s.r.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return storage.CIBARequest{}, wrap("get ciba request", err)
	}
	return row.toCIBARequest(), nil
}

// PendingCIBARequests returns up to limit pending requests, earliest next
// poll first.
func (s *Store) PendingCIBARequests(ctx context.Context, limit int) ([]storage.CIBARequest, error) {
	var rows []cibaRequestRow
	q := s.r.WithContext(ctx).Where("status = ?", "pending").Order("next_poll_at, id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, wrap("list pending ciba requests", err)
	}
	out := make([]storage.CIBARequest, len(rows))
	for i, r := range rows {
		out[i] = r.toCIBARequest()
	}
	return out, nil
}

// TryLeaseCIBARequest gives owner the lease until `until` when nobody else
// holds it at now, in one conditional UPDATE, so exactly one of any number
// of concurrent replicas wins. ErrNotFound for an unknown id.
func (s *Store) TryLeaseCIBARequest(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	const op = "lease ciba request"
	res := s.w.WithContext(ctx).Exec(`UPDATE ciba_requests SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_owner = '' OR lease_owner = ? OR lease_until IS NULL OR lease_until <= ?)`,
		owner, toMicros(until), id, owner, toMicros(now))
	if res.Error != nil {
		return false, wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	var n int64
	if err := s.w.WithContext(ctx).Model(&cibaRequestRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return false, wrap(op, err)
	}
	if n == 0 {
		return false, fmt.Errorf("sqlstore: %s %s: %w", op, id, storage.ErrNotFound)
	}
	return false, nil
}

// DeleteCIBABefore removes ended requests and offers created before the
// cut-off (pending requests stay until they end) and returns how many rows
// it removed.
func (s *Store) DeleteCIBABefore(ctx context.Context, before time.Time) (int64, error) {
	cut := toMicros(before)
	r1 := s.w.WithContext(ctx).Exec(`DELETE FROM ciba_requests WHERE created_at < ? AND status <> 'pending'`, cut)
	if r1.Error != nil {
		return 0, wrap("delete old ciba requests", r1.Error)
	}
	r2 := s.w.WithContext(ctx).Exec(`DELETE FROM ciba_offers WHERE created_at < ? AND id NOT IN (SELECT id FROM ciba_requests)`, cut)
	if r2.Error != nil {
		return r1.RowsAffected, wrap("delete old ciba offers", r2.Error)
	}
	return r1.RowsAffected + r2.RowsAffected, nil
}

// translateNoRows maps database/sql's "no rows" to gorm's, which wrap knows.
func translateNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return gorm.ErrRecordNotFound
	}
	return err
}
