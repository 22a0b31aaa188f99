package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// ActivationStore is the part of storage.Store that ActivePolicyOf reads.
type ActivationStore interface {
	ActiveRevisionID(ctx context.Context) (id int64, hash string, err error)
	ListActivations(ctx context.Context, revisionID int64) ([]storage.RevisionActivation, error)
}

// ActivePolicy is the revision deciding now and its last change: when it
// became active, by whom and why.
type ActivePolicy struct {
	Revision int64
	Hash     string
	// Since is when it became active; zero when the timeline does not say.
	Since      time.Time
	Kind       string
	By, Label  string
	Reason     string
	ApprovedBy string
}

// ActivePolicyOf reads the active revision and the activation that made
// it active; nil when no revision is active.
func ActivePolicyOf(ctx context.Context, st ActivationStore) (*ActivePolicy, error) {
	id, hash, err := st.ActiveRevisionID(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("active revision: %w", err)
	}
	p := &ActivePolicy{Revision: id, Hash: hash}
	periods, err := st.ListActivations(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("activations of revision %d: %w", id, err)
	}
	// Newest first: the open period is the current one.
	for _, a := range periods {
		if a.EndedAt == nil {
			p.Since, p.Kind, p.By, p.Label, p.Reason = a.ActivatedAt, a.Kind, a.ActivatedBy, a.ActivatedLabel, a.Reason
			p.ApprovedBy = a.ApprovedLabel
			if p.ApprovedBy == "" {
				p.ApprovedBy = a.ApprovedBy
			}
			break
		}
	}
	return p, nil
}
