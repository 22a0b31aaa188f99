package sqlstore

import (
	"context"
	"time"

	"github.com/stepgate/stepgate/storage"
)

type logoutRow struct {
	ID        int64 `gorm:"primaryKey;autoIncrement"`
	Issuer    string
	SID       string `gorm:"column:sid"`
	Subject   string
	ClientID  string
	SessionID string
	JTI       string `gorm:"column:jti"`
	EndedAt   int64
	CreatedAt int64 `gorm:"autoCreateTime:false"`
	ExpiresAt int64
}

func (logoutRow) TableName() string { return "session_logouts" }

func (r logoutRow) toLogout() storage.SessionLogout {
	return storage.SessionLogout{ID: r.ID, Issuer: r.Issuer, SID: r.SID, Subject: r.Subject, ClientID: r.ClientID,
		SessionID: r.SessionID, JTI: r.JTI, At: fromMicros(r.EndedAt), CreatedAt: fromMicros(r.CreatedAt),
		ExpiresAt: fromMicros(r.ExpiresAt)}
}

// SaveLogout stores a logout mark and returns it with its id.
func (s *Store) SaveLogout(ctx context.Context, l storage.SessionLogout) (storage.SessionLogout, error) {
	const op = "save session logout"
	if !l.Valid() {
		return storage.SessionLogout{}, invalid(op, "name a session (client id and session id) or a user (issuer and sid or subject), with its time and expiry")
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	row := logoutRow{Issuer: l.Issuer, SID: l.SID, Subject: l.Subject, ClientID: l.ClientID, SessionID: l.SessionID,
		JTI: l.JTI, EndedAt: toMicros(l.At), CreatedAt: toMicros(l.CreatedAt), ExpiresAt: toMicros(l.ExpiresAt)}
	if err := s.w.WithContext(ctx).Create(&row).Error; err != nil {
		return storage.SessionLogout{}, wrap(op, err)
	}
	return row.toLogout(), nil
}

// LogoutsAfter returns up to limit unexpired marks after afterID, by id.
func (s *Store) LogoutsAfter(ctx context.Context, afterID int64, now time.Time, limit int) ([]storage.SessionLogout, error) {
	const op = "list session logouts"
	if limit <= 0 {
		return nil, invalid(op, "limit must be positive")
	}
	var rows []logoutRow
	err := s.r.WithContext(ctx).Where("id > ? AND expires_at > ?", afterID, toMicros(now)).
		Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, wrap(op, err)
	}
	out := make([]storage.SessionLogout, len(rows))
	for i, r := range rows {
		out[i] = r.toLogout()
	}
	return out, nil
}

// DeleteExpiredLogouts removes marks that expired before the cut-off and
// returns how many it removed.
func (s *Store) DeleteExpiredLogouts(ctx context.Context, before time.Time) (int64, error) {
	res := s.w.WithContext(ctx).Where("expires_at < ?", toMicros(before)).Delete(&logoutRow{})
	if res.Error != nil {
		return 0, wrap("delete expired session logouts", res.Error)
	}
	return res.RowsAffected, nil
}
