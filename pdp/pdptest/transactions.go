package pdptest

import (
	"context"
	"sync"
	"time"

	"github.com/stepgate/stepgate/pdp"
)

// Transactions is an in-memory pdp.TransactionStore for tests.
type Transactions struct {
	mu   sync.Mutex
	txs  map[string]pdp.Transaction
	used map[string]bool
	// Err, when set, is returned by every call (to test fail-closed paths).
	Err error
}

// NewTransactions returns an empty store.
func NewTransactions() *Transactions {
	return &Transactions{txs: map[string]pdp.Transaction{}, used: map[string]bool{}}
}

// CreateStepUp stores t.
func (s *Transactions) CreateStepUp(_ context.Context, t pdp.Transaction) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	s.txs[t.ID] = t
	return nil
}

// ConsumeStepUp marks the transaction used, once.
func (s *Transactions) ConsumeStepUp(_ context.Context, id string, now time.Time) (pdp.Transaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return pdp.Transaction{}, s.Err
	}
	t, ok := s.txs[id]
	switch {
	case !ok:
		return pdp.Transaction{}, pdp.ErrTransactionNotFound
	case s.used[id]:
		return t, pdp.ErrTransactionUsed
	case now.After(t.ExpiresAt):
		return t, pdp.ErrTransactionExpired
	}
	s.used[id] = true
	return t, nil
}

// Get returns a stored transaction without consuming it.
func (s *Transactions) Get(id string) (pdp.Transaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.txs[id]
	return t, ok
}
