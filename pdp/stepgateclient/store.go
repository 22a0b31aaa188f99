package stepgateclient

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Pending is a step-up in flight, kept between the redirect to the IdP and
// the callback.
type Pending struct {
	TransactionID string    `json:"tx"`
	State         string    `json:"state"`
	CodeVerifier  string    `json:"cv,omitempty"`
	ReturnTo      string    `json:"rt"`
	ExpiresAt     time.Time `json:"exp"`
	// DecisionID is the step_up decision that started it (for logs and
	// the error page's reference).
	DecisionID string `json:"did,omitempty"`
}

// StepUpStore keeps pending step-ups, each under its own state, so that a
// browser may have several in flight (two tabs, a retry after a lost
// redirect) without one disturbing another.
type StepUpStore interface {
	// SaveStepUp remembers p until the callback for p.State.
	SaveStepUp(w http.ResponseWriter, r *http.Request, p Pending) error
	// TakeStepUp returns the pending step-up with state and forgets it,
	// touching no other. It fails with ErrUnknownState, ErrReplayed (taken
	// before) or ErrExpired; with the last two it also returns what it
	// knows of the step-up (ReturnTo, DecisionID) for the error page.
	TakeStepUp(w http.ResponseWriter, r *http.Request, state string) (Pending, error)
}

// CookieStore keeps each pending step-up in its own HMAC-signed cookie,
// named after its state, HttpOnly and SameSite=Lax so that it survives the
// IdP's cross-site redirect back. A second tab's step-up therefore gets a
// second cookie instead of overwriting the first, and the callback reads
// and clears only the cookie of the state it was given.
//
// A taken step-up leaves a small signed marker (no verifier) until the
// step-up would have expired, so that a replayed callback URL (Back,
// reload) is told apart from a forged state. At most Max step-ups are kept
// per browser; saving one more drops markers and expired ones first, then
// the oldest. The cookies are a few hundred bytes each.
//
// The bound needs the request that starts a step-up (the guarded page) to
// carry the cookies, so Path must cover the guarded pages as well as the
// callback; the default "/" does. A Path that only the callback matches
// keeps the cookies off other requests, but then nothing bounds how many
// pile up before they expire.
type CookieStore struct {
	// Key signs the cookies (at least 32 random bytes).
	Key []byte
	// Name is the cookies' prefix; default "stepgate_stepup". Each cookie
	// is Name + "_" + a digest of its state.
	Name string
	// Path defaults to "/"; it must cover the guarded pages and the
	// callback (see above).
	Path string
	// Secure marks the cookies Secure (set it behind HTTPS).
	Secure bool
	// Max bounds the step-ups kept per browser; default 8.
	Max int
	// TTL bounds how long a pending step-up is kept when stepgate's
	// expiry is later or missing; default 10 minutes.
	TTL time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
}

// stored is a cookie's signed content.
type stored struct {
	Pending
	// Used marks a step-up already taken: only State, ReturnTo, DecisionID
	// and ExpiresAt are kept.
	Used bool `json:"used,omitempty"`
}

func (s CookieStore) prefix() string {
	if s.Name == "" {
		return "stepgate_stepup"
	}
	return s.Name
}

// cookieName is the cookie of state: a digest, so any state gives a valid
// name and the name says nothing about the state.
func (s CookieStore) cookieName(state string) string {
	d := sha256.Sum256([]byte(state))
	return s.prefix() + "_" + base64.RawURLEncoding.EncodeToString(d[:12])
}

func (s CookieStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s CookieStore) max() int {
	if s.Max <= 0 {
		return 8
	}
	return s.Max
}

func (s CookieStore) cookie(name, value string, maxAge int) *http.Cookie {
	path := s.Path
	if path == "" {
		path = "/"
	}
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		Secure: s.Secure, SameSite: http.SameSiteLaxMode}
}

func (s CookieStore) sign(b []byte) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s CookieStore) encode(v stored) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b) + "." + s.sign(b), nil
}

// decode returns the cookie's content when its signature holds.
func (s CookieStore) decode(value string) (stored, bool) {
	payload, sig, _ := strings.Cut(value, ".")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || !hmac.Equal([]byte(sig), []byte(s.sign(b))) {
		return stored{}, false
	}
	var v stored
	if json.Unmarshal(b, &v) != nil {
		return stored{}, false
	}
	return v, true
}

// expiry is when p stops being accepted: stepgate's expiry, bounded by TTL.
func (s CookieStore) expiry(p Pending) time.Time {
	ttl := s.TTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	limit := s.now().Add(ttl)
	if p.ExpiresAt.IsZero() || p.ExpiresAt.After(limit) {
		return limit
	}
	return p.ExpiresAt
}

// linger is how long a cookie outlives its step-up, so that a late
// callback hears "expired" rather than "unknown".
const linger = 5 * time.Minute

func (s CookieStore) checkKey() error {
	if len(s.Key) < 32 {
		return errors.New("stepgateclient: CookieStore.Key must have at least 32 bytes")
	}
	return nil
}

// SaveStepUp implements StepUpStore.
func (s CookieStore) SaveStepUp(w http.ResponseWriter, r *http.Request, p Pending) error {
	if err := s.checkKey(); err != nil {
		return err
	}
	if p.State == "" {
		return errors.New("stepgateclient: a pending step-up needs its state")
	}
	p.ExpiresAt = s.expiry(p)
	v, err := s.encode(stored{Pending: p})
	if err != nil {
		return err
	}
	name := s.cookieName(p.State)
	if r != nil {
		s.evict(w, r, name)
	}
	http.SetCookie(w, s.cookie(name, v, int(p.ExpiresAt.Add(linger).Sub(s.now())/time.Second)))
	return nil
}

// evict clears the browser's step-up cookies that are past use, and the
// oldest beyond Max-1, so that the one being added fits.
func (s CookieStore) evict(w http.ResponseWriter, r *http.Request, adding string) {
	type entry struct {
		name string
		exp  time.Time
		used bool
	}
	now := s.now()
	var live []entry
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, s.prefix()+"_") || c.Name == adding {
			continue
		}
		v, ok := s.decode(c.Value)
		if !ok || !now.Before(v.ExpiresAt.Add(linger)) {
			http.SetCookie(w, s.cookie(c.Name, "", -1))
			continue
		}
		live = append(live, entry{c.Name, v.ExpiresAt, v.Used || !now.Before(v.ExpiresAt)})
	}
	// Markers and expired step-ups go first, then the oldest pending ones.
	slices.SortFunc(live, func(a, b entry) int {
		if a.used != b.used {
			if a.used {
				return -1
			}
			return 1
		}
		return a.exp.Compare(b.exp)
	})
	for len(live) > s.max()-1 {
		http.SetCookie(w, s.cookie(live[0].name, "", -1))
		live = live[1:]
	}
}

// TakeStepUp implements StepUpStore. Only the cookie of state is read and
// rewritten; every other pending step-up stays as it was.
func (s CookieStore) TakeStepUp(w http.ResponseWriter, r *http.Request, state string) (Pending, error) {
	if state == "" {
		return Pending{}, ErrUnknownState
	}
	name := s.cookieName(state)
	c, err := r.Cookie(name)
	if err != nil {
		return Pending{}, ErrUnknownState
	}
	v, ok := s.decode(c.Value)
	if !ok || !hmac.Equal([]byte(v.State), []byte(state)) {
		http.SetCookie(w, s.cookie(name, "", -1)) // not ours, or tampered: it can never match
		return Pending{}, ErrUnknownState
	}
	known := Pending{State: v.State, ReturnTo: v.ReturnTo, DecisionID: v.DecisionID, ExpiresAt: v.ExpiresAt}
	if v.Used {
		return known, ErrReplayed
	}
	now := s.now()
	if !now.Before(v.ExpiresAt) {
		http.SetCookie(w, s.cookie(name, "", -1))
		return known, ErrExpired
	}
	marker, err := s.encode(stored{Pending: known, Used: true})
	if err != nil {
		return Pending{}, err
	}
	http.SetCookie(w, s.cookie(name, marker, int(v.ExpiresAt.Add(linger).Sub(now)/time.Second)))
	return v.Pending, nil
}
