package trail

import (
	"context"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// ActivationLister lists the revision activation timeline; storage.Store
// is one.
type ActivationLister interface {
	ListActivations(ctx context.Context, revisionID int64) ([]storage.RevisionActivation, error)
}

// timeline is every activation period, newest first: few rows (one per
// activation), read once per search, decision page or export.
type timeline []storage.RevisionActivation

func (t *Trail) timeline(ctx context.Context) (timeline, error) {
	if t.cfg.Activations == nil {
		return nil, nil
	}
	list, err := t.cfg.Activations.ListActivations(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("read the activation timeline: %w", err)
	}
	return list, nil
}

// at returns the period of revision rev in effect at when. A record made
// just after its revision was replaced (a replica swaps within a second)
// falls after every period of its revision; it gets the latest one that
// began before it.
func (tl timeline) at(rev int64, when time.Time) *storage.RevisionActivation {
	var before *storage.RevisionActivation
	for i := range tl {
		p := &tl[i]
		if p.RevisionID != rev || p.ActivatedAt.After(when) {
			continue
		}
		if p.EndedAt == nil || when.Before(*p.EndedAt) {
			return p
		}
		if before == nil {
			before = p
		}
	}
	return before
}

// fill sets the activation of the revision that decided e's record.
func (tl timeline) fill(e *Entry) {
	if e.Rec.PolicyRevision > 0 && len(tl) > 0 {
		e.Activation = tl.at(e.Rec.PolicyRevision, e.Rec.Time)
	}
}

// who names a person for a reader: the label with the verified identity
// beside it when they differ.
func who(actor, label string) string {
	if label == "" || label == actor {
		return actor
	}
	return label + " (" + actor + ")"
}

// ActivatedByText names who activated the revision of the period, for a
// page or a CSV cell.
func ActivatedByText(p *storage.RevisionActivation) string {
	if p == nil {
		return ""
	}
	return who(p.ActivatedBy, p.ActivatedLabel)
}

// ApprovedByText names the second admin of a four-eyes activation, or "".
func ApprovedByText(p *storage.RevisionActivation) string {
	if p == nil || p.ApprovedBy == "" {
		return ""
	}
	return who(p.ApprovedBy, p.ApprovedLabel)
}

// activationLine is an NDJSON line's account of the revision's activation.
// It is not hashed: a verifier ignores it.
type activationLine struct {
	ActivatedAt time.Time `json:"activated_at"`
	ActivatedBy string    `json:"activated_by"`
	Label       string    `json:"activated_by_label,omitempty"`
	ApprovedBy  string    `json:"approved_by,omitempty"`
	ApprovedLbl string    `json:"approved_by_label,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Kind        string    `json:"kind"`
}

func activationLineOf(p *storage.RevisionActivation) *activationLine {
	if p == nil {
		return nil
	}
	return &activationLine{ActivatedAt: p.ActivatedAt, ActivatedBy: p.ActivatedBy, Label: p.ActivatedLabel,
		ApprovedBy: p.ApprovedBy, ApprovedLbl: p.ApprovedLabel, Reason: p.Reason, Kind: p.Kind}
}
