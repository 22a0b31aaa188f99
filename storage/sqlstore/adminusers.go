package sqlstore

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// adminUserRow is one local admin UI account.
type adminUserRow struct {
	Name         string `gorm:"primaryKey"`
	Role         string
	PasswordHash string
	Disabled     bool
	Version      int64
	CreatedAt    int64 `gorm:"autoCreateTime:false"`
	CreatedBy    string
	UpdatedAt    int64 `gorm:"autoUpdateTime:false"`
}

func (adminUserRow) TableName() string { return "admin_users" }

func (r adminUserRow) toUser() storage.AdminUser {
	return storage.AdminUser{Name: r.Name, Role: r.Role, PasswordHash: r.PasswordHash, Disabled: r.Disabled,
		Version: r.Version, CreatedAt: fromMicros(r.CreatedAt), CreatedBy: r.CreatedBy, UpdatedAt: fromMicros(r.UpdatedAt)}
}

func validAdminUser(op string, u storage.AdminUser) error {
	if u.Name == "" || u.PasswordHash == "" {
		return invalid(op, "name and password hash are required")
	}
	if u.Role != storage.AdminRoleAdmin && u.Role != storage.AdminRoleAuditor {
		return invalid(op, "unknown role "+u.Role)
	}
	return nil
}

// CreateAdminUser stores a new account with version 1.
func (s *Store) CreateAdminUser(ctx context.Context, u storage.AdminUser) (storage.AdminUser, error) {
	const op = "create admin user"
	if err := validAdminUser(op, u); err != nil {
		return storage.AdminUser{}, err
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	row := adminUserRow{Name: u.Name, Role: u.Role, PasswordHash: u.PasswordHash, Disabled: u.Disabled, Version: 1,
		CreatedAt: toMicros(u.CreatedAt), CreatedBy: u.CreatedBy, UpdatedAt: toMicros(u.CreatedAt)}
	if err := s.w.WithContext(ctx).Create(&row).Error; err != nil {
		return storage.AdminUser{}, wrap(op, err)
	}
	return row.toUser(), nil
}

// GetAdminUser returns one account.
func (s *Store) GetAdminUser(ctx context.Context, name string) (storage.AdminUser, error) {
	var row adminUserRow
	if err := s.r.WithContext(ctx).Take(&row, "name = ?", name).Error; err != nil {
		return storage.AdminUser{}, wrap("get admin user", err)
	}
	return row.toUser(), nil
}

// ListAdminUsers returns every account ordered by name.
func (s *Store) ListAdminUsers(ctx context.Context) ([]storage.AdminUser, error) {
	var rows []adminUserRow
	if err := s.r.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, wrap("list admin users", err)
	}
	out := make([]storage.AdminUser, len(rows))
	for i, r := range rows {
		out[i] = r.toUser()
	}
	return out, nil
}

// UpdateAdminUser changes an account and refuses to leave no enabled
// admin. On PostgreSQL updates serialise on an advisory lock, so that two
// admins disabling each other at once cannot both succeed; SQLite's writes
// are serialised already.
func (s *Store) UpdateAdminUser(ctx context.Context, u storage.AdminUser) (storage.AdminUser, error) {
	const op = "update admin user"
	if err := validAdminUser(op, u); err != nil {
		return storage.AdminUser{}, err
	}
	var row adminUserRow
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == Postgres {
			if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.admin_users'))`).Error; err != nil {
				return err
			}
		}
		if err := tx.Take(&row, "name = ?", u.Name).Error; err != nil {
			return err
		}
		if u.UpdatedAt.IsZero() {
			u.UpdatedAt = s.now()
		}
		row.Role, row.PasswordHash, row.Disabled, row.UpdatedAt = u.Role, u.PasswordHash, u.Disabled, toMicros(u.UpdatedAt)
		row.Version++
		if err := tx.Model(&adminUserRow{}).Where("name = ?", u.Name).Updates(map[string]any{
			"role": row.Role, "password_hash": row.PasswordHash, "disabled": row.Disabled,
			"updated_at": row.UpdatedAt, "version": row.Version,
		}).Error; err != nil {
			return err
		}
		var admins int64
		if err := tx.Model(&adminUserRow{}).Where("role = ? AND disabled = ?", storage.AdminRoleAdmin, false).
			Count(&admins).Error; err != nil {
			return err
		}
		if admins == 0 {
			return storage.ErrLastAdmin
		}
		return nil
	})
	if errors.Is(err, storage.ErrLastAdmin) {
		return storage.AdminUser{}, err
	}
	if err != nil {
		return storage.AdminUser{}, wrap(op, err)
	}
	return row.toUser(), nil
}
