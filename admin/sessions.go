package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// ErrNoSession means the session cookie names no live session: it is
// unknown, signed out, or past its idle or absolute timeout.
var ErrNoSession = errors.New("no valid admin session")

// SessionStore keeps sessions server-side as opaque records keyed by the
// SHA-256 of the cookie value, so a copy of the database holds no usable
// session token. It is the admin-session part of storage.Store, whose
// contract the conformance suite checks.
type SessionStore interface {
	storage.AdminSessions
}

// Session is one signed-in person.
type Session struct {
	// User is the name shown for the person: the bootstrap admin's account
	// name, or the e-mail address (or other name) the IdP gave.
	User string `json:"user"`
	Role Role   `json:"role"`
	// Method is "password" (a local account) or "sso".
	Method string `json:"method"`
	// Version is the local account's version when the session began; the
	// session ends when the account changes (AccountChecker).
	Version int64 `json:"ver,omitempty"`
	// Issuer and Subject are who the IdP vouched for (SSO only): the
	// verified identity the admin audit trail names (see Actor).
	Issuer  string `json:"iss,omitempty"`
	Subject string `json:"sub,omitempty"`
	// AMR, ACR and AuthTime describe the last authentication; the engine
	// decides sensitive admin actions from them.
	AMR      []string  `json:"amr,omitempty"`
	ACR      string    `json:"acr,omitempty"`
	AuthTime time.Time `json:"auth_time"`
	// CSRF is the synchronizer token every state-changing request must echo.
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`

	key string // cookie value; never stored
}

// Actor is who the session's changes are recorded as: issuer and subject
// for single sign-on (User is only the label, see WithActorLabel), and
// the account (LocalActor) for a local account.
func (s *Session) Actor() string {
	if s.Method == "sso" {
		return SSOActor(s.Issuer, s.Subject)
	}
	return LocalActor(s.User)
}

// AccountChecker says whether a local account still stands as it did when
// a session began; admin/users implements it.
type AccountChecker interface {
	// Current reports whether account name exists, is enabled and still
	// has version (no password, role or status change since).
	Current(ctx context.Context, name string, version int64) (bool, error)
}

// Key returns the cookie value of a session just created or rotated.
func (s *Session) Key() string { return s.key }

// CheckCSRF compares token with the session's in constant time.
func (s *Session) CheckCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}

// SessionsConfig configures Sessions.
type SessionsConfig struct {
	Store SessionStore
	// IdleTimeout ends a session not used for this long; default 30m.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after sign-in; default 12h.
	AbsoluteTimeout time.Duration
	// Recorder records sign-outs. Required.
	Recorder *Recorder
	// Accounts ends the sessions of local accounts that were disabled or
	// changed since they signed in; nil checks nothing.
	Accounts AccountChecker
	Now      func() time.Time
	Logger   *slog.Logger
}

// Sessions creates, loads and ends admin sessions.
type Sessions struct{ cfg SessionsConfig }

// touchEvery limits LastSeen writes: a session is refreshed in the store at
// most once a minute, so browsing does not turn every page into a write.
const touchEvery = time.Minute

// NewSessions validates cfg and applies defaults.
func NewSessions(cfg SessionsConfig) (*Sessions, error) {
	if cfg.Store == nil || cfg.Recorder == nil {
		return nil, errors.New("admin: sessions: Store and Recorder are required")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.AbsoluteTimeout <= 0 {
		cfg.AbsoluteTimeout = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sessions{cfg: cfg}, nil
}

// Create starts a session for s (User, Role, Method and authentication
// facts set by the caller) and returns it with a fresh key and CSRF token.
func (m *Sessions) Create(ctx context.Context, s Session) (*Session, error) {
	now := m.cfg.Now()
	key, err := RandomToken(32)
	if err != nil {
		return nil, err
	}
	csrf, err := RandomToken(32)
	if err != nil {
		return nil, err
	}
	s.key, s.CSRF, s.CreatedAt, s.LastSeen = key, csrf, now, now
	if s.AuthTime.IsZero() {
		s.AuthTime = now
	}
	if err := m.put(ctx, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Load returns the live session for key, refreshing its idle timer. An
// expired session is deleted and reported as ErrNoSession.
func (m *Sessions) Load(ctx context.Context, key string) (*Session, error) {
	if key == "" {
		return nil, ErrNoSession
	}
	h := hashKey(key)
	data, err := m.cfg.Store.GetAdminSession(ctx, h)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("load admin session: %w", err)
	}
	var s Session
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode admin session: %w", err)
	}
	s.key = key
	now := m.cfg.Now()
	// An SSO session stored before subjects were kept has no verified
	// identity to record changes under: it signs in again.
	stale := !now.Before(m.expiry(&s)) || (s.Method == "sso" && (s.Issuer == "" || s.Subject == ""))
	if !stale && s.Method == "password" && m.cfg.Accounts != nil {
		// A disabled account's sessions end with it; so do those opened
		// with a password since replaced, or under another role.
		ok, err := m.cfg.Accounts.Current(ctx, s.User, s.Version)
		if err != nil {
			return nil, fmt.Errorf("check admin account of session: %w", err)
		}
		stale = !ok
	}
	if stale {
		if err := m.cfg.Store.DeleteAdminSession(ctx, h); err != nil {
			m.cfg.Logger.WarnContext(ctx, "delete expired admin session", "err", err)
		}
		return nil, ErrNoSession
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		s.LastSeen = now
		if err := m.put(ctx, &s); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// Reauthenticated records a fresh authentication in s and moves it to a new
// key (so a key seen before the re-authentication is worthless).
func (m *Sessions) Reauthenticated(ctx context.Context, s *Session, authTime time.Time, amr []string, acr string) error {
	old := s.key
	key, err := RandomToken(32)
	if err != nil {
		return err
	}
	s.key, s.AuthTime, s.AMR, s.ACR, s.LastSeen = key, authTime, amr, acr, m.cfg.Now()
	if err := m.put(ctx, s); err != nil {
		return err
	}
	return m.End(ctx, old)
}

// End deletes the session; ending an unknown session is not an error.
func (m *Sessions) End(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	err := m.cfg.Store.DeleteAdminSession(ctx, hashKey(key))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("end admin session: %w", err)
	}
	return nil
}

// SignOut ends s and records the sign-out. The session ends even when the
// record cannot be written; that failure is returned.
func (m *Sessions) SignOut(ctx context.Context, s *Session) error {
	if err := m.End(ctx, s.key); err != nil {
		return err
	}
	if err := m.cfg.Recorder.Event(WithActorLabel(ctx, s.User), s.Actor(), ActionSignOut, OutcomeOK, "", map[string]any{"method": s.Method}); err != nil {
		return fmt.Errorf("sign-out could not be recorded: %w", err)
	}
	return nil
}

// Sweep deletes every session that has expired.
func (m *Sessions) Sweep(ctx context.Context) (int64, error) {
	return m.cfg.Store.DeleteExpiredAdminSessions(ctx, m.cfg.Now())
}

// expiry is the earlier of the idle and the absolute deadline.
func (m *Sessions) expiry(s *Session) time.Time {
	idle := s.LastSeen.Add(m.cfg.IdleTimeout)
	abs := s.CreatedAt.Add(m.cfg.AbsoluteTimeout)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

func (m *Sessions) put(ctx context.Context, s *Session) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode admin session: %w", err)
	}
	if err := m.cfg.Store.PutAdminSession(ctx, hashKey(s.key), data, m.expiry(s)); err != nil {
		return fmt.Errorf("store admin session: %w", err)
	}
	return nil
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// RandomToken returns n random bytes, base64url encoded.
func RandomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
