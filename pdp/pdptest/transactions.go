package pdptest

import (
	"context"
	"sync"
	"time"

	"github.com/stepgate/stepgate/pdp/stepup"
)

// Transactions is an in-memory pdp.TransactionStore for tests.
type Transactions struct {
	mu   sync.Mutex
	txs  map[string]stepup.Transaction
	used map[string]bool
	// Err, when set, is returned by every call (to test fail-closed paths).
	Err error
}

// NewTransactions returns an empty store.
func NewTransactions() *Transactions {
	return &Transactions{txs: map[string]stepup.Transaction{}, used: map[string]bool{}}
}

// CreateStepUp stores t.
func (s *Transactions) CreateStepUp(_ context.Context, t stepup.Transaction) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	s.txs[t.ID] = t
	return nil
}

// ConsumeStepUp marks the transaction used, once, for the client that
// created it; for another client it is not found, and stays usable.
func (s *Transactions) ConsumeStepUp(_ context.Context, id, clientID string, now time.Time) (stepup.Transaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return stepup.Transaction{}, s.Err
	}
	t, ok := s.txs[id]
	switch {
	case !ok || t.ClientID != clientID:
		return stepup.Transaction{}, stepup.ErrTransactionNotFound
	case s.used[id]:
		return t, stepup.ErrTransactionUsed
	case now.After(t.ExpiresAt):
		return t, stepup.ErrTransactionExpired
	}
	s.used[id] = true
	return t, nil
}

// Get returns a stored transaction without consuming it.
func (s *Transactions) Get(id string) (stepup.Transaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.txs[id]
	return t, ok
}
