package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/stepgate/stepgate/storage"
)

// CreateClient stores a new client.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	const op = "create client"
	if c.ID == "" || c.KeyHash == "" {
		return invalid(op, "id and key hash are required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.KeyCreatedAt.IsZero() {
		c.KeyCreatedAt = c.CreatedAt
	}
	row, err := clientToRow(c)
	if err != nil {
		return wrap(op, err)
	}
	// A new client has not been used yet, whatever c says.
	row.LastUsedAt, row.PreviousKeyLastUsedAt = nil, nil
	return wrap(op, s.w.WithContext(ctx).Create(&row).Error)
}

// GetClient returns a client by id.
func (s *Store) GetClient(ctx context.Context, id string) (storage.Client, error) {
	return s.takeClient(ctx, "get client", "id = ?", id)
}

// ClientByKeyHash returns the client whose key, or previous key, has the
// given hex SHA-256. Both columns have a unique index.
func (s *Store) ClientByKeyHash(ctx context.Context, keyHash string) (storage.Client, error) {
	if keyHash == "" {
		return storage.Client{}, wrap("client by key hash", gorm.ErrRecordNotFound)
	}
	return s.takeClient(ctx, "client by key hash", "key_hash = ? OR previous_key_hash = ?", keyHash, keyHash)
}

func (s *Store) takeClient(ctx context.Context, op, where string, args ...any) (storage.Client, error) {
	var row clientRow
	if err := s.r.WithContext(ctx).Take(&row, append([]any{where}, args...)...).Error; err != nil {
		return storage.Client{}, wrap(op, err)
	}
	c, err := row.toClient()
	return c, wrap(op, err)
}

// ListClients returns every client ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	const op = "list clients"
	var rows []clientRow
	if err := s.r.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, wrap(op, err)
	}
	out := make([]storage.Client, len(rows))
	for i, row := range rows {
		c, err := row.toClient()
		if err != nil {
			return nil, wrap(op, err)
		}
		out[i] = c
	}
	return out, nil
}

// UpdateClient replaces every field of an existing client except CreatedAt.
func (s *Store) UpdateClient(ctx context.Context, c storage.Client) error {
	const op = "update client"
	if c.ID == "" || c.KeyHash == "" {
		return invalid(op, "id and key hash are required")
	}
	row, err := clientToRow(c)
	if err != nil {
		return wrap(op, err)
	}
	// Without KeyCreatedAt, a new key is dated now and an unchanged one
	// keeps its date (the right side of SET reads the old row).
	var keyCreated any = row.KeyCreatedAt
	if c.KeyCreatedAt.IsZero() {
		keyCreated = gorm.Expr("CASE WHEN key_hash = ? THEN key_created_at ELSE ? END", row.KeyHash, toMicros(s.now()))
	}
	res := s.w.WithContext(ctx).Model(&clientRow{}).Where("id = ?", c.ID).Updates(map[string]any{
		"key_hash": row.KeyHash, "name": row.Name, "assert_claims": row.AssertClaims,
		"return_to": row.ReturnTo, "disabled": row.Disabled, "key_created_at": keyCreated,
		"previous_key_hash": row.PreviousKeyHash, "previous_key_expires_at": row.PreviousKeyExpiresAt,
	})
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: %s %q: %w", op, c.ID, storage.ErrNotFound)
	}
	return nil
}

// RecordClientUse moves each client's use times forward, never back, in
// one transaction.
func (s *Store) RecordClientUse(ctx context.Context, uses []storage.ClientUse) error {
	const op = "record client use"
	if len(uses) == 0 {
		return nil
	}
	return wrap(op, s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, u := range uses {
			col := "last_used_at"
			if u.Previous {
				col = "previous_key_last_used_at"
			}
			at := toMicros(u.At)
			err := tx.Model(&clientRow{}).Where("id = ? AND ("+col+" IS NULL OR "+col+" < ?)", u.ClientID, at).
				Update(col, at).Error
			if err != nil {
				return err
			}
		}
		return nil
	}))
}

// DeleteClient removes a client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	const op = "delete client"
	res := s.w.WithContext(ctx).Where("id = ?", id).Delete(&clientRow{})
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: %s %q: %w", op, id, storage.ErrNotFound)
	}
	return nil
}

func clientToRow(c storage.Client) (clientRow, error) {
	returnTo := c.ReturnTo
	if returnTo == nil {
		returnTo = []string{}
	}
	rt, err := json.Marshal(returnTo)
	if err != nil {
		return clientRow{}, fmt.Errorf("encode return_to: %w", err)
	}
	row := clientRow{
		ID: c.ID, KeyHash: c.KeyHash, Name: c.Name, AssertClaims: c.AssertClaims,
		ReturnTo: string(rt), Disabled: c.Disabled, CreatedAt: toMicros(c.CreatedAt),
		PreviousKeyHash: c.PreviousKeyHash, PreviousKeyExpiresAt: toMicrosPtr(c.PreviousKeyExpiresAt),
		LastUsedAt: toMicrosPtr(c.LastUsedAt), PreviousKeyLastUsedAt: toMicrosPtr(c.PreviousKeyLastUsedAt),
	}
	if !c.KeyCreatedAt.IsZero() {
		row.KeyCreatedAt = toMicrosPtr(&c.KeyCreatedAt)
	}
	if c.PreviousKeyHash == "" {
		row.PreviousKeyExpiresAt = nil
	}
	return row, nil
}

func (r clientRow) toClient() (storage.Client, error) {
	var rt []string
	if err := json.Unmarshal([]byte(r.ReturnTo), &rt); err != nil {
		return storage.Client{}, fmt.Errorf("decode return_to of client %q: %w", r.ID, err)
	}
	c := storage.Client{
		ID: r.ID, KeyHash: r.KeyHash, Name: r.Name, AssertClaims: r.AssertClaims,
		ReturnTo: rt, Disabled: r.Disabled, CreatedAt: fromMicros(r.CreatedAt), KeyCreatedAt: fromMicros(r.CreatedAt),
		PreviousKeyHash: r.PreviousKeyHash, PreviousKeyExpiresAt: fromMicrosPtr(r.PreviousKeyExpiresAt),
		LastUsedAt: fromMicrosPtr(r.LastUsedAt), PreviousKeyLastUsedAt: fromMicrosPtr(r.PreviousKeyLastUsedAt),
	}
	if r.KeyCreatedAt != nil {
		c.KeyCreatedAt = fromMicros(*r.KeyCreatedAt)
	}
	return c, nil
}
