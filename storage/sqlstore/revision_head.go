package sqlstore

import (
	"context"

	"github.com/stepgate/stepgate/storage"
)

// ActiveRevisionID returns the id and hash of the active revision without
// its bundle: the cheap query every replica polls to notice an activation.
// It returns storage.ErrNotFound when no revision is active.
func (s *Store) ActiveRevisionID(ctx context.Context) (int64, string, error) {
	var row revisionRow
	err := s.r.WithContext(ctx).Select("id", "hash").Take(&row, "state = ?", storage.RevisionActive).Error
	if err != nil {
		return 0, "", wrap("active revision id", err)
	}
	return row.ID, row.Hash, nil
}
