package ciba

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Errors of Runner callers branch on (pdphttp maps them to statuses).
var (
	// ErrNotFound: no CIBA request or offer with that id or decision id
	// for this client.
	ErrNotFound = errors.New("no such ciba request")
	// ErrNotStarted: the decision offered CIBA but nobody started it yet.
	ErrNotStarted = errors.New("ciba request not started")
	// ErrOfferGone: the offer expired before it was started.
	ErrOfferGone = errors.New("ciba offer expired; ask for a new decision")
	// ErrUnavailable: the IdP or the store could not be reached; retry later.
	ErrUnavailable = errors.New("ciba temporarily unavailable")
)

// Verifier is what the runner needs of the token verifier: the issuer
// configuration (CIBA client), its discovered endpoints, and ID token
// verification. *Verifier implements it.
type Verifier interface {
	Issuer(iss string) (trust.IssuerConfig, bool)
	Issuers() []trust.IssuerConfig
	Endpoints(ctx context.Context, issuer string) (trust.Endpoints, error)
	VerifyIDToken(ctx context.Context, raw, issuer, clientID string) (*trust.Token, error)
}

// RunnerConfig wires a Runner. Verifier, Offers and Requests are
// required; zero durations take the defaults named.
type RunnerConfig struct {
	Verifier Verifier
	// Offers holds what `ciba` decisions left for POST /v1/ciba; explicit
	// starts are stored there too, so every request has one.
	Offers Offers
	// Requests persists the backchannel requests (SQL in production).
	Requests backchannel.Store
	// Audit records every transition (started, approved, denied, expired,
	// error; see cibarun_audit.go); nil records nothing.
	Audit flow.Auditor
	// Owner names this replica in request leases; keep it stable across
	// restarts (the audit chain id is a good choice). Default: random.
	Owner string
	// DefaultInterval (5s), MinInterval (1s), LeaseDuration (30s) and
	// Rescan (5s) are passed to backchannel.Config.
	DefaultInterval, MinInterval, LeaseDuration, Rescan time.Duration
	// HTTPClient talks to the IdP; default a client with a 10s timeout.
	HTTPClient *http.Client
	// RequestedExpiry is requested_expiry (seconds) of explicit starts; default 300.
	RequestedExpiry int
	// OfferTTL is how long an explicit start's offer is kept; default 10m.
	OfferTTL time.Duration
	// AuthTimeSkew is how much earlier than the request the returned
	// auth_time may be; default 5s.
	AuthTimeSkew time.Duration
	// Now and After are the clock and scheduler; tests inject both.
	Now    func() time.Time
	After  func(time.Duration) <-chan time.Time
	Logger *slog.Logger
}

// Runner runs OpenID CIBA for stepgate's clients: it starts the
// backchannel request a `ciba` decision offered (or an explicit one), polls
// the IdP in the background through a backchannel.Poller, verifies the ID
// token of an approval against the decision's requirements and reports the
// outcome, auditing how each request ended.
type Runner struct {
	cfg    RunnerConfig
	poller *backchannel.Poller
	log    *slog.Logger
	// changes carries the poller's reports to the runner, which handles
	// them on its own call stack (drain), never inside the poller's.
	changes chan backchannel.Change
}

// changesBuffer bounds the reports waiting to be handled; a full buffer
// holds the poller back until the runner catches up.
const changesBuffer = 256

// NewRunner validates cfg and builds the runner and its poller. Call Run
// to poll.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Verifier == nil || cfg.Offers == nil || cfg.Requests == nil {
		return nil, errors.New("pdp: ciba runner config: Verifier, Offers and Requests are required")
	}
	cfg.RequestedExpiry = cmp.Or(cfg.RequestedExpiry, 300)
	cfg.OfferTTL = cmp.Or(cfg.OfferTTL, 10*time.Minute)
	cfg.AuthTimeSkew = cmp.Or(cfg.AuthTimeSkew, 5*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{cfg: cfg, log: cfg.Logger, changes: make(chan backchannel.Change, changesBuffer)}
	p, err := backchannel.New(backchannel.Config{
		Store: cfg.Requests, Resolver: Resolver{Verifier: cfg.Verifier}, Client: backchannel.NewClient(cfg.HTTPClient),
		Changes: r.changes, Owner: cfg.Owner, DefaultInterval: cfg.DefaultInterval, MinInterval: cfg.MinInterval,
		LeaseDuration: cfg.LeaseDuration, Rescan: cfg.Rescan, Now: cfg.Now, After: cfg.After, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("pdp: ciba runner: %w", err)
	}
	r.poller = p
	return r, nil
}

// Run polls pending requests until ctx ends, resuming those a previous
// process (or a crashed replica) left pending, and handles what the poller
// reports as it comes.
func (r *Runner) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case c := <-r.changes:
				r.handle(ctx, c)
			}
		}
	}()
	err := r.poller.Run(ctx)
	<-done
	return err
}

// RunOnce makes one polling pass and handles its reports before it
// returns (tests drive the runner with it).
func (r *Runner) RunOnce(ctx context.Context) (time.Time, error) {
	next, err := r.poller.RunOnce(ctx)
	r.drain(ctx)
	return next, err
}

// drain handles every report waiting in changes.
func (r *Runner) drain(ctx context.Context) {
	for {
		select {
		case c := <-r.changes:
			r.handle(ctx, c)
		default:
			return
		}
	}
}

// Resolver resolves an issuer to its CIBA endpoints (discovery:
// backchannel_authentication_endpoint, token_endpoint) and the credentials
// of its configured CIBA client (IssuerConfig.CIBA).
type Resolver struct {
	Verifier Verifier
}

// Resolve implements backchannel.Resolver.
func (cr Resolver) Resolve(ctx context.Context, issuer string) (backchannel.Endpoints, backchannel.Credentials, error) {
	ic, ok := cr.Verifier.Issuer(issuer)
	if !ok {
		return backchannel.Endpoints{}, backchannel.Credentials{}, fmt.Errorf("resolve ciba issuer %q: %w", issuer, trust.ErrUnknownIssuer)
	}
	if ic.CIBA == nil {
		return backchannel.Endpoints{}, backchannel.Credentials{}, fmt.Errorf("resolve ciba issuer %q: no ciba client is configured", issuer)
	}
	ep, err := cr.Verifier.Endpoints(ctx, issuer)
	if err != nil {
		return backchannel.Endpoints{}, backchannel.Credentials{}, fmt.Errorf("resolve ciba issuer: %w", err)
	}
	if ep.Backchannel == "" || ep.Token == "" {
		return backchannel.Endpoints{}, backchannel.Credentials{}, fmt.Errorf("resolve ciba issuer %q: discovery announces no backchannel_authentication_endpoint or token_endpoint", issuer)
	}
	return backchannel.Endpoints{Backchannel: ep.Backchannel, Token: ep.Token},
		backchannel.Credentials{ClientID: ic.CIBA.ClientID, ClientSecret: ic.CIBA.ClientSecret}, nil
}
