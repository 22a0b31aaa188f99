package stepup

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Verifier is the part of trust.Verifier step-up uses.
type Verifier interface {
	Endpoints(ctx context.Context, issuer string) (trust.Endpoints, error)
	VerifyIDToken(ctx context.Context, raw, issuer, clientID string) (*trust.Token, error)
}

// Config wires a Service. Verifier and Transactions are required.
type Config struct {
	Verifier     Verifier
	Transactions TransactionStore
	// Flows records every verification attempt; nil records nothing.
	Flows flow.Auditor
	// TTL is how long a step-up transaction stays usable; default 10m.
	TTL time.Duration
	// Skew is how much earlier than the step-up request a fresh login's
	// auth_time may be (clock differences with the IdP); default 5s.
	Skew time.Duration
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service begins step-ups (the authorize URL and its stored transaction)
// and verifies the ID tokens users come back with. It is safe for
// concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Verifier == nil || cfg.Transactions == nil:
		return nil, errors.New("stepup: config: Verifier and Transactions are required")
	case cfg.TTL < 0 || cfg.Skew < 0:
		return nil, errors.New("stepup: config: durations must not be negative")
	}
	cfg.TTL = cmp.Or(cfg.TTL, 10*time.Minute)
	cfg.Skew = cmp.Or(cfg.Skew, 5*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: cfg.Logger}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now() }
