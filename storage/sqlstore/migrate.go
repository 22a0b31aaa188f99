package sqlstore

import (
	"context"
	"fmt"

	"github.com/stepgate/stepgate/storage/sqlstore/schema"
)

// migrate brings the schema to the newest version (schema.Migrate).
func (s *Store) migrate(ctx context.Context) error {
	if err := schema.Migrate(ctx, s.w, s.dialect == Postgres, s.now(), s.logger); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// SchemaVersion returns the newest applied migration version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.r.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("sqlstore: schema version: %w", err)
	}
	return v, nil
}
