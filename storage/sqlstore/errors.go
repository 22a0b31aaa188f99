package sqlstore

import (
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// wrap maps gorm's translated errors to storage sentinels and names the
// operation that failed. It returns nil for a nil error.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, storage.ErrAlreadyExists, err)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, storage.ErrConflict, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// invalid reports a caller error.
func invalid(op, msg string) error {
	return fmt.Errorf("sqlstore: %s: %w: %s", op, storage.ErrInvalid, msg)
}
