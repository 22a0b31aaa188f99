package sqlstore

import (
	"context"
	"fmt"

	"github.com/stepgate/stepgate/storage"
)

// SaveSearch stores a new saved search.
func (s *Store) SaveSearch(ctx context.Context, in storage.SavedSearch) (storage.SavedSearch, error) {
	const op = "save search"
	if in.Owner == "" || in.Name == "" || in.Query == "" {
		return storage.SavedSearch{}, invalid(op, "owner, name and query are required")
	}
	if in.CreatedAt.IsZero() {
		in.CreatedAt = s.now()
	}
	row := savedSearchRow{Owner: in.Owner, Name: in.Name, Query: in.Query, CreatedAt: toMicros(in.CreatedAt)}
	if err := s.w.WithContext(ctx).Create(&row).Error; err != nil {
		return storage.SavedSearch{}, wrap(op, err)
	}
	return row.toSavedSearch(), nil
}

// ListSavedSearches returns owner's saved searches ordered by name.
func (s *Store) ListSavedSearches(ctx context.Context, owner string) ([]storage.SavedSearch, error) {
	const op = "list saved searches"
	var rows []savedSearchRow
	if err := s.r.WithContext(ctx).Where("owner = ?", owner).Order("name, id").Find(&rows).Error; err != nil {
		return nil, wrap(op, err)
	}
	out := make([]storage.SavedSearch, len(rows))
	for i, r := range rows {
		out[i] = r.toSavedSearch()
	}
	return out, nil
}

// DeleteSavedSearch removes owner's saved search id.
func (s *Store) DeleteSavedSearch(ctx context.Context, owner string, id int64) error {
	const op = "delete saved search"
	res := s.w.WithContext(ctx).Where("id = ? AND owner = ?", id, owner).Delete(&savedSearchRow{})
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: %s %d: %w", op, id, storage.ErrNotFound)
	}
	return nil
}

func (r savedSearchRow) toSavedSearch() storage.SavedSearch {
	return storage.SavedSearch{ID: r.ID, Owner: r.Owner, Name: r.Name, Query: r.Query, CreatedAt: fromMicros(r.CreatedAt)}
}
