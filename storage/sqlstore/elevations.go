package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/stepgate/stepgate/storage"
)

type elevationRow struct {
	ClientID   string `gorm:"primaryKey"`
	SessionID  string `gorm:"primaryKey"`
	Issuer     string
	Subject    string
	SID        string `gorm:"column:sid"`
	Methods    string
	ACR        string `gorm:"column:acr"`
	AuthTime   int64
	DecisionID string
	StepUpID   string
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
	ExpiresAt  int64
}

func (elevationRow) TableName() string { return "session_elevations" }

func (r elevationRow) toElevation() (storage.SessionElevation, error) {
	e := storage.SessionElevation{ClientID: r.ClientID, SessionID: r.SessionID, Issuer: r.Issuer, Subject: r.Subject,
		SID: r.SID, ACR: r.ACR, AuthTime: fromMicros(r.AuthTime), DecisionID: r.DecisionID, StepUpID: r.StepUpID,
		CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt)}
	if err := json.Unmarshal([]byte(r.Methods), &e.Methods); err != nil {
		return e, fmt.Errorf("decode methods of session %s: %w", r.SessionID, err)
	}
	return e, nil
}

// SaveElevation creates or replaces the elevation of (ClientID, SessionID).
func (s *Store) SaveElevation(ctx context.Context, e storage.SessionElevation) error {
	const op = "save session elevation"
	if e.ClientID == "" || e.SessionID == "" || e.ExpiresAt.IsZero() {
		return invalid(op, "client id, session id and expiry are required")
	}
	methods, err := json.Marshal(append([]string{}, e.Methods...))
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	row := elevationRow{ClientID: e.ClientID, SessionID: e.SessionID, Issuer: e.Issuer, Subject: e.Subject,
		SID: e.SID, Methods: string(methods), ACR: e.ACR, AuthTime: toMicros(e.AuthTime), DecisionID: e.DecisionID,
		StepUpID: e.StepUpID, CreatedAt: toMicros(e.CreatedAt), ExpiresAt: toMicros(e.ExpiresAt)}
	return wrap(op, s.w.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error)
}

// FindElevation returns the elevation of a session unexpired at now, or
// ErrNotFound.
func (s *Store) FindElevation(ctx context.Context, clientID, sessionID string, now time.Time) (storage.SessionElevation, error) {
	var row elevationRow
	err := s.r.WithContext(ctx).Take(&row, "client_id = ? AND session_id = ? AND expires_at > ?",
		clientID, sessionID, toMicros(now)).Error
	if err != nil {
		return storage.SessionElevation{}, wrap("find session elevation", err)
	}
	e, err := row.toElevation()
	if err != nil {
		return storage.SessionElevation{}, fmt.Errorf("sqlstore: find session elevation: %w", err)
	}
	return e, nil
}

// RevokeElevations deletes the elevations f selects, in one transaction,
// and returns them. A filter naming neither a session nor a user is
// refused with ErrInvalid.
func (s *Store) RevokeElevations(ctx context.Context, f storage.ElevationFilter) ([]storage.SessionElevation, error) {
	const op = "revoke session elevations"
	if !(f.ClientID != "" && f.SessionID != "") && !(f.Issuer != "" && (f.SID != "" || f.Subject != "")) {
		return nil, invalid(op, "name a session (client id and session id) or a user (issuer and sid or subject)")
	}
	var out []storage.SessionElevation
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&elevationRow{})
		for _, c := range [...][2]string{{"client_id", f.ClientID}, {"session_id", f.SessionID},
			{"issuer", f.Issuer}, {"sid", f.SID}, {"subject", f.Subject}} {
			if c[1] != "" {
				q = q.Where(c[0]+" = ?", c[1])
			}
		}
		if !f.CreatedBefore.IsZero() {
			q = q.Where("created_at < ?", toMicros(f.CreatedBefore))
		}
		var rows []elevationRow
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			if err := tx.Where("client_id = ? AND session_id = ?", r.ClientID, r.SessionID).Delete(&elevationRow{}).Error; err != nil {
				return err
			}
			e, err := r.toElevation()
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// DeleteExpiredElevations removes elevations that expired before the
// cut-off and returns how many it removed.
func (s *Store) DeleteExpiredElevations(ctx context.Context, before time.Time) (int64, error) {
	res := s.w.WithContext(ctx).Where("expires_at < ?", toMicros(before)).Delete(&elevationRow{})
	if res.Error != nil {
		return 0, wrap("delete expired session elevations", res.Error)
	}
	return res.RowsAffected, nil
}
