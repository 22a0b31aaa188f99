package trail

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// SavedStore is the part of storage.Store that saved searches use.
type SavedStore interface {
	SaveSearch(ctx context.Context, s storage.SavedSearch) (storage.SavedSearch, error)
	ListSavedSearches(ctx context.Context, owner string) ([]storage.SavedSearch, error)
	DeleteSavedSearch(ctx context.Context, owner string, id int64) error
}

// Saved keeps the searches each person saved, under their admin identity
// (admin.Session.Actor): personal bookmarks, not configuration, so saving
// one is not an admin change in the trail.
type Saved struct{ store SavedStore }

// NewSaved returns Saved keeping searches in store.
func NewSaved(store SavedStore) (*Saved, error) {
	if store == nil {
		return nil, errors.New("admin: saved searches: a store is required")
	}
	return &Saved{store: store}, nil
}

// maxSavedName bounds a saved search's name.
const maxSavedName = 100

// transientParams are parts of a search link that say where the person
// was, not what they searched for.
var transientParams = []string{"cursor", "dir", "_csrf", "name"}

// List returns owner's saved searches ordered by name.
func (s *Saved) List(ctx context.Context, owner string) ([]storage.SavedSearch, error) {
	list, err := s.store.ListSavedSearches(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("saved searches: %w", err)
	}
	return list, nil
}

// Save stores query (the search form's parameters, without paging) under
// name for owner. A name owner already uses, a blank or long name, or an
// empty search is an admin.FieldErrors.
func (s *Saved) Save(ctx context.Context, owner, name string, query url.Values) (storage.SavedSearch, error) {
	name = strings.TrimSpace(name)
	q := url.Values{}
	for k, v := range query {
		if len(v) > 0 && v[0] != "" {
			q.Set(k, v[0])
		}
	}
	for _, k := range transientParams {
		q.Del(k)
	}
	switch {
	case name == "":
		return storage.SavedSearch{}, admin.FieldErrors{"name": "give the search a name"}
	case utf8.RuneCountInString(name) > maxSavedName:
		return storage.SavedSearch{}, admin.FieldErrors{"name": fmt.Sprintf("at most %d characters", maxSavedName)}
	case len(q) == 0:
		return storage.SavedSearch{}, admin.FieldErrors{"name": "set a filter first: an empty search needs no saving"}
	}
	saved, err := s.store.SaveSearch(ctx, storage.SavedSearch{Owner: owner, Name: name, Query: q.Encode()})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return storage.SavedSearch{}, admin.FieldErrors{"name": "you already saved a search with this name"}
	}
	if err != nil {
		return storage.SavedSearch{}, fmt.Errorf("save search %q: %w", name, err)
	}
	return saved, nil
}

// Delete removes owner's saved search id; storage.ErrNotFound when owner
// has none with that id.
func (s *Saved) Delete(ctx context.Context, owner string, id int64) error {
	if err := s.store.DeleteSavedSearch(ctx, owner, id); err != nil {
		return fmt.Errorf("delete saved search %d: %w", id, err)
	}
	return nil
}
