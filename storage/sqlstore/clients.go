package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

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
	row, err := clientToRow(c)
	if err != nil {
		return wrap(op, err)
	}
	return wrap(op, s.w.WithContext(ctx).Create(&row).Error)
}

// GetClient returns a client by id.
func (s *Store) GetClient(ctx context.Context, id string) (storage.Client, error) {
	return s.takeClient(ctx, "get client", "id = ?", id)
}

// ClientByKeyHash returns the client whose key has the given hex SHA-256.
func (s *Store) ClientByKeyHash(ctx context.Context, keyHash string) (storage.Client, error) {
	return s.takeClient(ctx, "client by key hash", "key_hash = ?", keyHash)
}

func (s *Store) takeClient(ctx context.Context, op, where string, arg string) (storage.Client, error) {
	var row clientRow
	if err := s.r.WithContext(ctx).Take(&row, where, arg).Error; err != nil {
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
	res := s.w.WithContext(ctx).Model(&clientRow{}).Where("id = ?", c.ID).Updates(map[string]any{
		"key_hash": row.KeyHash, "name": row.Name, "assert_claims": row.AssertClaims,
		"return_to": row.ReturnTo, "disabled": row.Disabled,
	})
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: %s %q: %w", op, c.ID, storage.ErrNotFound)
	}
	return nil
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
	return clientRow{
		ID: c.ID, KeyHash: c.KeyHash, Name: c.Name, AssertClaims: c.AssertClaims,
		ReturnTo: string(rt), Disabled: c.Disabled, CreatedAt: toMicros(c.CreatedAt),
	}, nil
}

func (r clientRow) toClient() (storage.Client, error) {
	var rt []string
	if err := json.Unmarshal([]byte(r.ReturnTo), &rt); err != nil {
		return storage.Client{}, fmt.Errorf("decode return_to of client %q: %w", r.ID, err)
	}
	return storage.Client{
		ID: r.ID, KeyHash: r.KeyHash, Name: r.Name, AssertClaims: r.AssertClaims,
		ReturnTo: rt, Disabled: r.Disabled, CreatedAt: fromMicros(r.CreatedAt),
	}, nil
}
