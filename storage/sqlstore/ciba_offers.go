package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/storage"
)

type cibaOfferRow struct {
	ID           string `gorm:"primaryKey"`
	DecisionID   string
	ClientID     string
	Issuer       string
	Subject      string
	Action       string
	Request      []byte
	Requirements []byte
	CreatedAt    int64 `gorm:"autoCreateTime:false"`
	ExpiresAt    int64
	StartedAt    *int64
}

func (cibaOfferRow) TableName() string { return "ciba_offers" }

func (r cibaOfferRow) toOffer() storage.CIBAOffer {
	return storage.CIBAOffer{ID: r.ID, DecisionID: r.DecisionID, ClientID: r.ClientID, Issuer: r.Issuer,
		Subject: r.Subject, Action: r.Action, Request: r.Request, Requirements: r.Requirements,
		CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt), StartedAt: fromMicrosPtr(r.StartedAt)}
}

// SaveCIBAOffer inserts an offer; ErrAlreadyExists on a duplicate id.
func (s *Store) SaveCIBAOffer(ctx context.Context, o storage.CIBAOffer) error {
	if o.ID == "" || o.ExpiresAt.IsZero() {
		return invalid("save ciba offer", "id and expiry are required")
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = s.now()
	}
	row := cibaOfferRow{ID: o.ID, DecisionID: o.DecisionID, ClientID: o.ClientID, Issuer: o.Issuer,
		Subject: o.Subject, Action: o.Action, Request: o.Request, Requirements: o.Requirements,
		CreatedAt: toMicros(o.CreatedAt), ExpiresAt: toMicros(o.ExpiresAt), StartedAt: toMicrosPtr(o.StartedAt)}
	return wrap("save ciba offer", s.w.WithContext(ctx).Create(&row).Error)
}

// GetCIBAOffer returns an offer by id, or ErrNotFound.
func (s *Store) GetCIBAOffer(ctx context.Context, id string) (storage.CIBAOffer, error) {
	var row cibaOfferRow
	if err := s.r.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return storage.CIBAOffer{}, wrap("get ciba offer", err)
	}
	return row.toOffer(), nil
}

// CIBAOfferByDecision returns the offer a decision left, or ErrNotFound.
func (s *Store) CIBAOfferByDecision(ctx context.Context, decisionID string) (storage.CIBAOffer, error) {
	var row cibaOfferRow
	if decisionID == "" {
		return storage.CIBAOffer{}, fmt.Errorf("sqlstore: ciba offer by decision: %w", storage.ErrNotFound)
	}
	if err := s.r.WithContext(ctx).Take(&row, "decision_id = ?", decisionID).Error; err != nil {
		return storage.CIBAOffer{}, wrap("ciba offer by decision", err)
	}
	return row.toOffer(), nil
}

// StartCIBAOffer marks the offer started once (useOnce): exactly one of
// concurrent callers in any process wins; the others get ErrUsed, and an
// offer past its expiry ErrExpired (never marked).
func (s *Store) StartCIBAOffer(ctx context.Context, id string, now time.Time) (storage.CIBAOffer, error) {
	const op = "start ciba offer"
	var row cibaOfferRow
	err := useOnce(ctx, s.w, id, "started_at", now, &row)
	switch {
	case errors.Is(err, storage.ErrUsed), errors.Is(err, storage.ErrExpired):
		return storage.CIBAOffer{}, fmt.Errorf("sqlstore: %s %q: %w", op, id, err)
	case err != nil:
		return storage.CIBAOffer{}, wrap(op, err)
	}
	return row.toOffer(), nil
}
