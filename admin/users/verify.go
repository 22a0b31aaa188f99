package users

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// Verify implements admin.LocalAccounts: the account, when password is its
// own and it is enabled. A bcrypt comparison runs whatever the name, so
// timing does not tell an unknown account from a wrong password; a
// disabled account is refused like a wrong password, after the comparison.
func (s *Service) Verify(ctx context.Context, name, password string) (admin.LocalAccount, error) {
	u, err := s.cfg.Store.GetAdminUser(ctx, name)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && subtle.ConstantTimeCompare([]byte(u.Name), []byte(name)) != 1) {
		_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
		return admin.LocalAccount{}, admin.ErrBadCredentials
	}
	if err != nil {
		return admin.LocalAccount{}, fmt.Errorf("read account: %w", err)
	}
	known := admin.LocalAccount{Name: u.Name}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil || u.Disabled {
		return known, admin.ErrBadCredentials
	}
	return admin.LocalAccount{Name: u.Name, Role: admin.Role(u.Role), Version: u.Version}, nil
}

// Current implements admin.AccountChecker: the account exists, is enabled
// and has not changed since version.
func (s *Service) Current(ctx context.Context, name string, version int64) (bool, error) {
	u, err := s.cfg.Store.GetAdminUser(ctx, name)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !u.Disabled && u.Version == version, nil
}
