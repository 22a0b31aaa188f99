package backchannel

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Store persists backchannel requests so that polling resumes after a
// restart and only one replica polls a given request. The SQL implementation
// lives in the storage package; MemoryStore serves tests and single-process use.
type Store interface {
	// SaveRequest inserts a new record; ErrDuplicate if the ID exists.
	SaveRequest(ctx context.Context, r Record) error
	// UpdateRequest replaces the record with r.ID, but only while its stored
	// LeaseOwner equals owner (ErrLeaseLost otherwise; ErrNotFound if absent).
	// In SQL: UPDATE … WHERE id = ? AND lease_owner = ?.
	UpdateRequest(ctx context.Context, r Record, owner string) error
	// GetRequest returns one record; ErrNotFound if absent.
	GetRequest(ctx context.Context, id string) (Record, error)
	// PendingRequests returns up to limit records with StatusPending,
	// earliest NextPollAt first.
	PendingRequests(ctx context.Context, limit int) ([]Record, error)
	// TryLease gives owner the record's lease until `until` if nobody else
	// holds it at `now` (LeaseOwner empty, equal to owner, or LeaseUntil not
	// after now) and reports whether it did. It must be atomic across
	// replicas (one conditional UPDATE). ErrNotFound if absent.
	TryLease(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
}

// MemoryStore is a Store held in memory, safe for concurrent use.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]Record
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{records: map[string]Record{}}
}

// SaveRequest implements Store.
func (s *MemoryStore) SaveRequest(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[r.ID]; ok {
		return fmt.Errorf("save backchannel request %s: %w", r.ID, ErrDuplicate)
	}
	s.records[r.ID] = clone(r)
	return nil
}

// UpdateRequest implements Store.
func (s *MemoryStore) UpdateRequest(_ context.Context, r Record, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.records[r.ID]
	switch {
	case !ok:
		return fmt.Errorf("update backchannel request %s: %w", r.ID, ErrNotFound)
	case cur.LeaseOwner != owner:
		return fmt.Errorf("update backchannel request %s as %q (held by %q): %w", r.ID, owner, cur.LeaseOwner, ErrLeaseLost)
	}
	s.records[r.ID] = clone(r)
	return nil
}

// GetRequest implements Store.
func (s *MemoryStore) GetRequest(_ context.Context, id string) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[id]
	if !ok {
		return Record{}, fmt.Errorf("get backchannel request %s: %w", id, ErrNotFound)
	}
	return clone(r), nil
}

// PendingRequests implements Store.
func (s *MemoryStore) PendingRequests(_ context.Context, limit int) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.records {
		if r.Status == StatusPending {
			out = append(out, clone(r))
		}
	}
	slices.SortFunc(out, func(a, b Record) int { return a.NextPollAt.Compare(b.NextPollAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// TryLease implements Store.
func (s *MemoryStore) TryLease(_ context.Context, id, owner string, now, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[id]
	if !ok {
		return false, fmt.Errorf("lease backchannel request %s: %w", id, ErrNotFound)
	}
	if r.LeaseOwner != "" && r.LeaseOwner != owner && r.LeaseUntil.After(now) {
		return false, nil
	}
	r.LeaseOwner, r.LeaseUntil = owner, until
	s.records[id] = r
	return true, nil
}

// clone keeps callers from sharing the Claims slice with the store.
func clone(r Record) Record {
	r.Claims = slices.Clone(r.Claims)
	return r
}
