package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// oneTimeRow is a stored row that can be used once before it expires: a
// step-up transaction (used_at) or a CIBA offer (started_at).
type oneTimeRow interface {
	// usedAt is the use time in microseconds, nil while unused.
	usedAt() *int64
	// expiresAtMicros is the expiry in microseconds.
	expiresAtMicros() int64
}

func (r *stepUpRow) usedAt() *int64            { return r.UsedAt }
func (r *stepUpRow) expiresAtMicros() int64    { return r.ExpiresAt }
func (r *cibaOfferRow) usedAt() *int64         { return r.StartedAt }
func (r *cibaOfferRow) expiresAtMicros() int64 { return r.ExpiresAt }

// useOnce sets column (the row's use time) to now on row id with one
// conditional UPDATE, so the database decides the winner among concurrent
// callers in any process: only an update that changed a row succeeded.
// Expiry is checked in the same statement, so an expired row is never
// marked. It reads the row into dst whatever the outcome; a loser learns
// why from the row: storage.ErrUsed or storage.ErrExpired. A missing row is
// gorm.ErrRecordNotFound (wrap maps it to storage.ErrNotFound).
func useOnce[R any, P interface {
	*R
	oneTimeRow
}](ctx context.Context, db *gorm.DB, id, column string, now time.Time, dst P) error {
	nowUS := toMicros(now)
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(new(R)).Where("id = ? AND "+column+" IS NULL AND expires_at >= ?", id, nowUS).
			Update(column, nowUS)
		if res.Error != nil {
			return res.Error
		}
		var row R
		if err := tx.Take(&row, "id = ?", id).Error; err != nil {
			return err
		}
		*dst = row
		switch {
		case res.RowsAffected == 1:
			return nil
		case dst.usedAt() != nil:
			return storage.ErrUsed
		case dst.expiresAtMicros() < nowUS:
			return storage.ErrExpired
		}
		return fmt.Errorf("conditional update of %s matched no row although it is unset and unexpired", column)
	})
}
