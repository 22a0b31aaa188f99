package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/storage"
)

// ClientStore is the part of storage.Store that client management uses.
// Changes go through Atomic, so that each commits with its audit record.
type ClientStore interface {
	GetClient(ctx context.Context, id string) (storage.Client, error)
	ListClients(ctx context.Context) ([]storage.Client, error)
	Atomic(ctx context.Context, fn func(tx storage.Store) error) error
}

// ClientsConfig wires Clients.
type ClientsConfig struct {
	Store ClientStore
	// Recorder records every change in the transaction that makes it.
	Recorder *Recorder
	// OnChange is called after a client's key or permissions changed (the
	// transaction committed), so the decision API's authentication cache
	// forgets it at once.
	OnChange func()
	// KeyGrace is how long a rotated-away key keeps working unless the
	// admin chooses otherwise; default 24h, at most MaxKeyGrace.
	KeyGrace time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
}

// MaxKeyGrace bounds the overlap of a key rotation: a forgotten key must
// not stay valid for months.
const MaxKeyGrace = 30 * 24 * time.Hour

// maxReason bounds the reason given for a key change.
const maxReason = 500

// Clients manages decision API clients. Keys are generated here, shown once
// and stored only as hashes.
type Clients struct{ cfg ClientsConfig }

// NewClients validates cfg.
func NewClients(cfg ClientsConfig) (*Clients, error) {
	if cfg.Store == nil || cfg.Recorder == nil {
		return nil, errors.New("admin: clients config: Store and Recorder are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func() {}
	}
	if cfg.KeyGrace == 0 {
		cfg.KeyGrace = 24 * time.Hour
	}
	if cfg.KeyGrace < 0 || cfg.KeyGrace > MaxKeyGrace {
		return nil, fmt.Errorf("admin: clients config: KeyGrace %v is outside 0–%v", cfg.KeyGrace, MaxKeyGrace)
	}
	return &Clients{cfg: cfg}, nil
}

// KeyGrace is the default overlap of a key rotation.
func (c *Clients) KeyGrace() time.Duration { return c.cfg.KeyGrace }

// checkReason refuses a key change without a reason: the trail must say
// why every key was issued, replaced or revoked.
func checkReason(reason string) FieldErrors {
	switch r := strings.TrimSpace(reason); {
	case r == "":
		return FieldErrors{"reason": "say why, for the audit trail (e.g. the ticket number)"}
	case len(r) > maxReason:
		return FieldErrors{"reason": fmt.Sprintf("at most %d characters", maxReason)}
	}
	return nil
}

// ClientSettings are the fields an admin edits.
type ClientSettings struct {
	ID           string
	Name         string
	AssertClaims bool
	ReturnTo     []string
}

var clientIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate checks the settings; every problem is an ErrInvalid keyed by field.
func (s ClientSettings) Validate() FieldErrors {
	errs := FieldErrors{}
	if !clientIDPattern.MatchString(s.ID) {
		errs["id"] = "use 1–64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
	}
	if len(s.Name) > 200 {
		errs["name"] = "at most 200 characters"
	}
	for _, r := range s.ReturnTo {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
			errs["return_to"] = fmt.Sprintf("%q is not an absolute http(s) URL prefix such as https://app.example/", r)
			break
		}
	}
	return errs
}

// FieldErrors maps a form field to what is wrong with it.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	parts := make([]string, 0, len(f))
	for k, v := range f {
		parts = append(parts, k+": "+v)
	}
	return fmt.Sprintf("%v: %s", ErrInvalid, strings.Join(parts, "; "))
}

func (f FieldErrors) Unwrap() error { return ErrInvalid }

// List returns every client ordered by id.
func (c *Clients) List(ctx context.Context) ([]storage.Client, error) {
	return c.cfg.Store.ListClients(ctx)
}

// Get returns one client.
func (c *Clients) Get(ctx context.Context, id string) (storage.Client, error) {
	return c.cfg.Store.GetClient(ctx, id)
}

// Create stores a new client and returns its key, which is never shown
// again; reason says why, for the trail.
func (c *Clients) Create(ctx context.Context, actor string, s ClientSettings, reason string) (string, error) {
	errs := s.Validate()
	maps.Copy(errs, checkReason(reason))
	if len(errs) > 0 {
		return "", errs
	}
	key, err := clientauth.NewClientKey()
	if err != nil {
		return "", err
	}
	cl := storage.Client{ID: s.ID, KeyHash: clientauth.HashKey(key), Name: s.Name, AssertClaims: s.AssertClaims,
		ReturnTo: s.ReturnTo, CreatedAt: c.cfg.Now()}
	err = c.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		if err := tx.CreateClient(ctx, cl); err != nil {
			return err
		}
		return c.cfg.Recorder.Change(ctx, tx, actor, "client.create", map[string]any{
			"client": s.ID, "assert_claims": s.AssertClaims, "return_to": s.ReturnTo, "name": s.Name,
			"reason": strings.TrimSpace(reason)})
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return "", FieldErrors{"id": "a client with this id already exists"}
	}
	if err != nil {
		return "", fmt.Errorf("create client %s: %w", s.ID, err)
	}
	c.cfg.OnChange()
	return key, nil
}

// Update changes a client's name, assert_claims and return_to allowlist.
func (c *Clients) Update(ctx context.Context, actor string, s ClientSettings) error {
	if errs := s.Validate(); len(errs) > 0 {
		return errs
	}
	return c.change(ctx, actor, "client.update", s.ID, func(cl *storage.Client) map[string]any {
		cl.Name, cl.AssertClaims, cl.ReturnTo = s.Name, s.AssertClaims, s.ReturnTo
		return map[string]any{"assert_claims": s.AssertClaims, "return_to": s.ReturnTo, "name": s.Name}
	})
}

// Rotate replaces a client's key and returns the new one. The replaced key
// keeps working for grace (0 ends it at once, as for a leaked key), so
// the client's callers can switch without an outage. A revoked client's
// old key gets no grace: it was revoked for a reason. Rotating again
// during an overlap ends the earlier key at once.
func (c *Clients) Rotate(ctx context.Context, actor, id, reason string, grace time.Duration) (string, error) {
	if errs := checkReason(reason); len(errs) > 0 {
		return "", errs
	}
	if grace < 0 || grace > MaxKeyGrace {
		return "", FieldErrors{"grace": fmt.Sprintf("between 0 and %d days", int(MaxKeyGrace.Hours()/24))}
	}
	key, err := clientauth.NewClientKey()
	if err != nil {
		return "", err
	}
	now := c.cfg.Now()
	err = c.change(ctx, actor, "client.rotate", id, func(cl *storage.Client) map[string]any {
		detail := map[string]any{"reason": strings.TrimSpace(reason), "grace_seconds": int64(grace.Seconds())}
		cl.PreviousKeyHash, cl.PreviousKeyExpiresAt = "", nil
		if grace > 0 && !cl.Disabled {
			until := now.Add(grace).UTC()
			cl.PreviousKeyHash, cl.PreviousKeyExpiresAt = cl.KeyHash, &until
			detail["previous_key_valid_until"] = until.Format(time.RFC3339)
		}
		cl.KeyHash, cl.KeyCreatedAt, cl.Disabled = clientauth.HashKey(key), now, false
		return detail
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// EndOverlap stops accepting a client's previous key now.
func (c *Clients) EndOverlap(ctx context.Context, actor, id, reason string) error {
	if errs := checkReason(reason); len(errs) > 0 {
		return errs
	}
	return c.change(ctx, actor, "client.end_overlap", id, func(cl *storage.Client) map[string]any {
		cl.PreviousKeyHash, cl.PreviousKeyExpiresAt = "", nil
		return map[string]any{"reason": strings.TrimSpace(reason)}
	})
}

// Revoke disables a client's key, and its previous key if one is still in
// its overlap; Rotate issues a new one and enables it.
func (c *Clients) Revoke(ctx context.Context, actor, id, reason string) error {
	if errs := checkReason(reason); len(errs) > 0 {
		return errs
	}
	return c.change(ctx, actor, "client.revoke", id, func(cl *storage.Client) map[string]any {
		cl.Disabled, cl.PreviousKeyHash, cl.PreviousKeyExpiresAt = true, "", nil
		return map[string]any{"reason": strings.TrimSpace(reason)}
	})
}

// change reads client id, applies a change to it and stores it with the
// change's record, all in one transaction.
func (c *Clients) change(ctx context.Context, actor string, what, id string, apply func(*storage.Client) map[string]any) error {
	err := c.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		cl, err := tx.GetClient(ctx, id)
		if err != nil {
			return err
		}
		detail := apply(&cl)
		if err := tx.UpdateClient(ctx, cl); err != nil {
			return err
		}
		detail["client"] = id
		return c.cfg.Recorder.Change(ctx, tx, actor, what, detail)
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	c.cfg.OnChange()
	return nil
}
