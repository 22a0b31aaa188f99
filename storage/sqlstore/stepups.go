package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// CreateStepUp stores a new step-up transaction.
func (s *Store) CreateStepUp(ctx context.Context, t storage.StepUpTransaction) error {
	const op = "create step-up"
	if t.ID == "" || t.ExpiresAt.IsZero() {
		return invalid(op, "id and expiry are required")
	}
	if t.IssuedAt.IsZero() {
		t.IssuedAt = s.now()
	}
	row := stepUpToRow(t)
	return wrap(op, s.w.WithContext(ctx).Create(&row).Error)
}

// GetStepUp returns a transaction without consuming it.
func (s *Store) GetStepUp(ctx context.Context, id string) (storage.StepUpTransaction, error) {
	var row stepUpRow
	if err := s.r.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return storage.StepUpTransaction{}, wrap("get step-up", err)
	}
	return row.toStepUp(), nil
}

// ConsumeStepUp marks the transaction used once (useOnce): exactly one of
// any number of concurrent callers wins; a used or expired transaction is
// returned with its error, so the refusal can be audited. Another client's
// transaction is not found, and not touched: the owner is checked before
// useOnce, which needs no lock because a transaction's client never changes.
func (s *Store) ConsumeStepUp(ctx context.Context, id, clientID string, now time.Time) (storage.StepUpTransaction, error) {
	const op = "consume step-up"
	var owner stepUpRow
	if err := s.w.WithContext(ctx).Select("client_id").Take(&owner, "id = ?", id).Error; err != nil {
		return storage.StepUpTransaction{}, wrap(op, err)
	}
	if owner.ClientID != clientID {
		return storage.StepUpTransaction{}, fmt.Errorf("sqlstore: %s %q: %w", op, id, storage.ErrNotFound)
	}
	var row stepUpRow
	err := useOnce(ctx, s.w, id, "used_at", now, &row)
	switch {
	case errors.Is(err, storage.ErrUsed), errors.Is(err, storage.ErrExpired):
		return row.toStepUp(), fmt.Errorf("sqlstore: %s %q: %w", op, id, err)
	case err != nil:
		return storage.StepUpTransaction{}, wrap(op, err)
	}
	return row.toStepUp(), nil
}

// DeleteExpiredStepUps removes transactions that expired before the cut-off.
func (s *Store) DeleteExpiredStepUps(ctx context.Context, before time.Time) (int64, error) {
	res := s.w.WithContext(ctx).Where("expires_at < ?", toMicros(before)).Delete(&stepUpRow{})
	if res.Error != nil {
		return 0, wrap("delete expired step-ups", res.Error)
	}
	return res.RowsAffected, nil
}

func stepUpToRow(t storage.StepUpTransaction) stepUpRow {
	return stepUpRow{
		ID: t.ID, ClientID: t.ClientID, Issuer: t.Issuer, ClientAppID: t.ClientAppID,
		State: t.State, Nonce: t.Nonce, CodeVerifier: t.CodeVerifier, DecisionID: t.DecisionID,
		Subject: t.Subject, ReturnTo: t.ReturnTo, Action: t.Action, Requirements: t.Requirements,
		IssuedAt: toMicros(t.IssuedAt), ExpiresAt: toMicros(t.ExpiresAt), UsedAt: toMicrosPtr(t.UsedAt),
	}
}

func (r stepUpRow) toStepUp() storage.StepUpTransaction {
	return storage.StepUpTransaction{
		ID: r.ID, ClientID: r.ClientID, Issuer: r.Issuer, ClientAppID: r.ClientAppID,
		State: r.State, Nonce: r.Nonce, CodeVerifier: r.CodeVerifier, DecisionID: r.DecisionID,
		Subject: r.Subject, ReturnTo: r.ReturnTo, Action: r.Action, Requirements: r.Requirements,
		IssuedAt: fromMicros(r.IssuedAt), ExpiresAt: fromMicros(r.ExpiresAt), UsedAt: fromMicrosPtr(r.UsedAt),
	}
}
