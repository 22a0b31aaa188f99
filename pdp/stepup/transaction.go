package stepup

import (
	"context"
	"errors"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
)

// Errors a TransactionStore returns from ConsumeStepUp.
var (
	ErrTransactionNotFound = errors.New("step-up transaction not found")
	ErrTransactionUsed     = errors.New("step-up transaction already used")
	ErrTransactionExpired  = errors.New("step-up transaction expired")
)

// Transaction is a step-up in flight: everything needed to check the ID
// token that comes back. It is stored server-side, so state, nonce and the
// PKCE verifier survive the round trip whatever the app's cookies do.
type Transaction struct {
	ID           string
	ClientID     string // the decision API client that asked
	Issuer       string
	AppClientID  string // the OIDC client the authorize URL was built for
	State        string
	Nonce        string
	CodeVerifier string
	DecisionID   string
	Subject      string
	Action       string
	ReturnTo     string
	Requirements policy.Requirements
	IssuedAt     time.Time
	ExpiresAt    time.Time
}

// TransactionStore keeps step-up transactions. ConsumeStepUp must be atomic:
// of two concurrent calls for one id, exactly one succeeds. It consumes a
// transaction only for the client that created it (Transaction.ClientID):
// for any other client it returns ErrTransactionNotFound and leaves the
// transaction usable, so that knowing an id neither burns another client's
// step-up nor tells that it exists. With ErrTransactionUsed and
// ErrTransactionExpired it also returns the transaction, so that the
// refused attempt is audited against its decision.
type TransactionStore interface {
	CreateStepUp(ctx context.Context, t Transaction) error
	ConsumeStepUp(ctx context.Context, id, clientID string, now time.Time) (Transaction, error)
}
