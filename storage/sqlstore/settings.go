package sqlstore

import (
	"context"

	"gorm.io/gorm/clause"
)

// GetSetting returns the value stored under key.
func (s *Store) GetSetting(ctx context.Context, key string) (string, error) {
	var row settingRow
	if err := s.r.WithContext(ctx).Take(&row, "name = ?", key).Error; err != nil {
		return "", wrap("get setting "+key, err)
	}
	return row.Value, nil
}

// SetSetting creates or replaces the value stored under key.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return invalid("set setting", "empty key")
	}
	err := s.w.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"value"}),
	}).Create(&settingRow{Name: key, Value: value}).Error
	return wrap("set setting "+key, err)
}
