package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// adminSessionRow is one admin UI session or pending SSO login. Data is
// opaque to storage (the admin package encodes it); the key is the SHA-256
// of the cookie value, never the value itself.
type adminSessionRow struct {
	KeyHash   string `gorm:"primaryKey"`
	Data      []byte
	ExpiresAt int64
}

func (adminSessionRow) TableName() string { return "admin_sessions" }

// PutAdminSession creates or replaces the session stored under keyHash.
func (s *Store) PutAdminSession(ctx context.Context, keyHash string, data []byte, expiresAt time.Time) error {
	if keyHash == "" {
		return invalid("put admin session", "empty key hash")
	}
	err := s.w.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key_hash"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expires_at"}),
	}).Create(&adminSessionRow{KeyHash: keyHash, Data: data, ExpiresAt: toMicros(expiresAt)}).Error
	return wrap("put admin session", err)
}

// GetAdminSession returns the session data stored under keyHash, or
// storage.ErrNotFound. Expiry is the caller's business; it also sweeps.
func (s *Store) GetAdminSession(ctx context.Context, keyHash string) ([]byte, error) {
	var row adminSessionRow
	if err := s.r.WithContext(ctx).Take(&row, "key_hash = ?", keyHash).Error; err != nil {
		return nil, wrap("get admin session", err)
	}
	return row.Data, nil
}

// DeleteAdminSession removes a session; deleting an absent one is no error.
func (s *Store) DeleteAdminSession(ctx context.Context, keyHash string) error {
	return wrap("delete admin session", s.w.WithContext(ctx).Delete(&adminSessionRow{}, "key_hash = ?", keyHash).Error)
}

// DeleteExpiredAdminSessions removes sessions that expired before before.
func (s *Store) DeleteExpiredAdminSessions(ctx context.Context, before time.Time) (int64, error) {
	res := s.w.WithContext(ctx).Delete(&adminSessionRow{}, "expires_at < ?", toMicros(before))
	return res.RowsAffected, wrap("delete expired admin sessions", res.Error)
}
