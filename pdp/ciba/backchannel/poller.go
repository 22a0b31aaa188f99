package backchannel

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// SlowDownStep is what every slow_down answer adds to the interval (CIBA Core §11).
const SlowDownStep = 5 * time.Second

// Resolver gives the CIBA endpoints and client credentials of an issuer.
// The Poller asks on every poll, so secrets stay in configuration and a
// resumed request uses the current configuration.
type Resolver interface {
	Resolve(ctx context.Context, issuer string) (Endpoints, Credentials, error)
}

// Config configures a Poller. Store and Resolver are required.
type Config struct {
	Store    Store
	Resolver Resolver
	// Client makes the HTTP exchanges; default NewClient(nil).
	Client *Client
	// Changes, when set, receives every state change: accepted (pending),
	// interval increased by slow_down (pending), and the terminal state,
	// sent before the call that made it (Track, Begin, RunOnce) returns.
	// The consumer reads it on its own goroutine, so nothing of the
	// consumer runs inside the poller; a full channel holds the poller
	// back. It is a notification: the Store is authoritative, and a crash
	// between storing a terminal state and sending it loses the report,
	// not the state.
	Changes chan<- Change
	// Owner names this replica in leases. Keep it stable across restarts
	// (e.g. the pod name) so that a restarted replica resumes its requests
	// at once instead of after their leases run out; default a random name.
	Owner string
	// DefaultInterval is the wait between polls when the server sent no
	// interval; default 5 s as CIBA specifies.
	DefaultInterval time.Duration
	// MinInterval is the shortest wait between two polls of one request,
	// whatever the server says; default 1 s. Tests lower it together with
	// DefaultInterval.
	MinInterval time.Duration
	// LeaseDuration is how long a replica keeps a request after its next
	// planned poll before another replica may take it over; default 30 s.
	// It must exceed the Client's HTTP timeout.
	LeaseDuration time.Duration
	// Rescan is how often Run looks for work nobody told it about (requests
	// of a crashed replica); default 5 s.
	Rescan time.Duration
	// BatchSize bounds the requests read per pass; default 500.
	BatchSize int
	// Workers bounds concurrent polls; default 8.
	Workers int
	// Now and After are the clock and the scheduler; default time.Now and
	// time.After. Tests inject both.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// NewID makes request ids for Begin/Track without one; default rand.Text.
	NewID  func() string
	Logger *slog.Logger
}

// Poller sends backchannel requests, stores them and polls the token
// endpoint in the background until each ends.
type Poller struct {
	cfg  Config
	wake chan struct{}
	// settling serialises Settle within this replica.
	settling sync.Mutex
}

// Origin identifies a request on stepgate's side.
type Origin struct {
	// ID is stepgate's request id; generated when empty.
	ID         string
	DecisionID string
	// Issuer is passed to the Resolver.
	Issuer string
}

// New validates cfg, applies defaults and returns a Poller. Call Run to poll.
func New(cfg Config) (*Poller, error) {
	if cfg.Store == nil || cfg.Resolver == nil {
		return nil, errors.New("new backchannel poller: Store and Resolver are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.DefaultInterval, 5*time.Second)
	def(&cfg.MinInterval, time.Second)
	def(&cfg.LeaseDuration, 30*time.Second)
	def(&cfg.Rescan, 5*time.Second)
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(nil)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.NewID == nil {
		cfg.NewID = rand.Text
	}
	if cfg.Owner == "" {
		cfg.Owner = "poller-" + rand.Text()[:10]
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg, wake: make(chan struct{}, 1)}, nil
}

// Begin sends the backchannel authentication request to o.Issuer and tracks
// the acknowledged request. Errors from the server (*Error) or from
// validation (ErrInvalidRequest) leave nothing stored.
func (p *Poller) Begin(ctx context.Context, o Origin, r Request) (Record, error) {
	ep, creds, err := p.cfg.Resolver.Resolve(ctx, o.Issuer)
	if err != nil {
		return Record{}, fmt.Errorf("begin backchannel request at %s: %w", o.Issuer, err)
	}
	ack, err := p.cfg.Client.Start(ctx, ep, creds, r)
	if err != nil {
		return Record{}, fmt.Errorf("begin backchannel request at %s: %w", o.Issuer, err)
	}
	return p.Track(ctx, o, ack)
}

// Track stores an acknowledged request as pending, owned by this replica,
// reports it on Changes and wakes Run.
func (p *Poller) Track(ctx context.Context, o Origin, ack Ack) (Record, error) {
	if o.ID == "" {
		o.ID = p.cfg.NewID()
	}
	now := p.cfg.Now()
	interval := time.Duration(ack.Interval) * time.Second
	if ack.Interval <= 0 {
		interval = p.cfg.DefaultInterval
	}
	r := Record{
		ID: o.ID, DecisionID: o.DecisionID, Issuer: o.Issuer, AuthReqID: ack.AuthReqID,
		Status: StatusPending, Interval: max(interval, p.cfg.MinInterval),
		ExpiresAt:  now.Add(time.Duration(ack.ExpiresIn) * time.Second),
		LeaseOwner: p.cfg.Owner, CreatedAt: now, UpdatedAt: now,
	}
	p.schedule(&r, now)
	if err := p.cfg.Store.SaveRequest(ctx, r); err != nil {
		return Record{}, fmt.Errorf("track backchannel request %s: %w", r.ID, err)
	}
	p.notify(ctx, r)
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return r, nil
}

// Get returns the stored request.
func (p *Poller) Get(ctx context.Context, id string) (Record, error) {
	return p.cfg.Store.GetRequest(ctx, id)
}

// Settle records the consumer's verification of an approved request: the raw
// ID token is dropped and claims (the verified claims) kept, or, when
// verifyErr is set, the request ends in StatusError with that reason. The
// consumer reports the outcome itself: Settle reports nothing on Changes.
//
// Of concurrent calls for one request (the poller's report and a status
// read, on one replica or several) exactly one settles it and returns nil;
// the others get ErrSettled (already done) or ErrLeaseLost (another replica
// is settling it), so a consumer that records the outcome after a nil
// return records it once.
func (p *Poller) Settle(ctx context.Context, id string, claims json.RawMessage, verifyErr error) error {
	return p.SettleRecorded(ctx, id, claims, verifyErr, nil)
}

// ErrUnrecorded means an approval was turned into an error because its
// record could not be written: an approval nobody can audit must not
// count.
var ErrUnrecorded = errors.New("approval could not be recorded")

// SettleRecorded is Settle with the outcome recorded by record, called
// exactly once, by the caller that settles, under the request's lease and
// before the settlement is stored. When record fails for an approval
// (verifyErr nil), the request ends in StatusError instead, so the
// approval never counts unrecorded, and the error wraps ErrUnrecorded.
func (p *Poller) SettleRecorded(ctx context.Context, id string, claims json.RawMessage, verifyErr error,
	record func(ctx context.Context, verifyErr error) error) error {
	r, err := p.cfg.Store.GetRequest(ctx, id)
	if err != nil {
		return fmt.Errorf("settle backchannel request: %w", err)
	}
	if r.Status != StatusApproved {
		return fmt.Errorf("settle backchannel request %s (%s): %w", id, r.Status, ErrNotApproved)
	}
	if r.IDToken == "" {
		return fmt.Errorf("settle backchannel request %s: %w", id, ErrSettled)
	}
	// The lease keeps other replicas out; the mutex keeps out this
	// replica's other goroutines, which the lease (held by the same owner)
	// does not.
	p.settling.Lock()
	defer p.settling.Unlock()
	now := p.cfg.Now()
	ok, err := p.cfg.Store.TryLease(ctx, id, p.cfg.Owner, now, now.Add(p.cfg.LeaseDuration))
	if err != nil {
		return fmt.Errorf("settle backchannel request: %w", err)
	}
	if !ok {
		return fmt.Errorf("settle backchannel request %s: %w", id, ErrLeaseLost)
	}
	// Re-read under the lease: the first read may predate a settlement
	// that finished meanwhile.
	if r, err = p.cfg.Store.GetRequest(ctx, id); err != nil {
		return fmt.Errorf("settle backchannel request: %w", err)
	}
	if r.IDToken == "" {
		r.LeaseOwner, r.LeaseUntil = "", time.Time{}
		_ = p.cfg.Store.UpdateRequest(ctx, r, p.cfg.Owner) // give back the lease taken for nothing
		return fmt.Errorf("settle backchannel request %s: %w", id, ErrSettled)
	}
	r.IDToken, r.Claims, r.LeaseOwner, r.LeaseUntil, r.UpdatedAt = "", claims, "", time.Time{}, now
	if verifyErr != nil {
		r.Status, r.Claims, r.Error = StatusError, nil, "id token verification failed: "+verifyErr.Error()
	}
	var unrecorded error
	if record != nil {
		if err := record(ctx, verifyErr); err != nil && verifyErr == nil {
			unrecorded = fmt.Errorf("settle backchannel request %s: %w: %w", id, ErrUnrecorded, err)
			r.Status, r.Claims, r.Error = StatusError, nil, "the approval could not be recorded in the audit trail"
		}
	}
	if err := p.cfg.Store.UpdateRequest(ctx, r, p.cfg.Owner); err != nil {
		return fmt.Errorf("settle backchannel request: %w", err)
	}
	return unrecorded
}

// schedule plans the next poll one interval after now, never after expiry,
// and keeps the lease until a while after it.
func (p *Poller) schedule(r *Record, now time.Time) {
	r.NextPollAt = now.Add(r.Interval)
	if r.NextPollAt.After(r.ExpiresAt) {
		r.NextPollAt = r.ExpiresAt
	}
	r.LeaseUntil = r.NextPollAt.Add(p.cfg.LeaseDuration)
}

func (p *Poller) notify(ctx context.Context, r Record) { p.notifyState(ctx, r.ID, r.state()) }

func (p *Poller) notifyState(ctx context.Context, id string, st State) {
	if p.cfg.Changes == nil {
		return
	}
	select {
	case p.cfg.Changes <- Change{ID: id, State: st}:
	case <-ctx.Done():
	}
}

// Change is one report on Config.Changes: request id and its new state.
type Change struct {
	ID    string
	State State
}
