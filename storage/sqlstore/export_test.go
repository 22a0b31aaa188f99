package sqlstore

import "context"

// ExecRaw runs a statement on the writer connection, bypassing the Store
// API, so tests can tamper with rows the way an attacker with database
// access would.
func ExecRaw(ctx context.Context, s *Store, stmt string, args ...any) error {
	return s.w.WithContext(ctx).Exec(stmt, args...).Error
}

// SetDenseMatches changes the count above which SQLite walks a prefix
// search in time order, so tests can compare both plans; it returns a
// function that restores the default.
func SetDenseMatches(n int64) (restore func()) {
	old := denseMatches
	denseMatches = n
	return func() { denseMatches = old }
}
