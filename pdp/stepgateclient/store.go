package stepgateclient

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Pending is a step-up in flight, kept in the app's session between the
// redirect to the IdP and the callback.
type Pending struct {
	TransactionID string    `json:"tx"`
	State         string    `json:"state"`
	CodeVerifier  string    `json:"cv"`
	ReturnTo      string    `json:"rt"`
	ExpiresAt     time.Time `json:"exp"`
}

// ErrNoPending means the callback's state matches no pending step-up.
var ErrNoPending = errors.New("no pending step-up for this state")

// StepUpStore keeps pending step-ups in the app's session.
type StepUpStore interface {
	SaveStepUp(w http.ResponseWriter, r *http.Request, p Pending) error
	// TakeStepUp returns and forgets the pending step-up with state.
	TakeStepUp(w http.ResponseWriter, r *http.Request, state string) (Pending, error)
}

// CookieStore keeps one pending step-up in an HMAC-signed cookie, HttpOnly
// and SameSite=Lax so that it survives the IdP's cross-site redirect back.
type CookieStore struct {
	// Key signs the cookie (at least 32 random bytes).
	Key []byte
	// Name defaults to "stepgate_stepup"; Path to "/".
	Name, Path string
	// Secure marks the cookie Secure (set it behind HTTPS).
	Secure bool
	Now    func() time.Time
}

func (s CookieStore) name() string {
	if s.Name == "" {
		return "stepgate_stepup"
	}
	return s.Name
}

func (s CookieStore) cookie(value string, maxAge int) *http.Cookie {
	path := s.Path
	if path == "" {
		path = "/"
	}
	return &http.Cookie{Name: s.name(), Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		Secure: s.Secure, SameSite: http.SameSiteLaxMode}
}

func (s CookieStore) sign(b []byte) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SaveStepUp implements StepUpStore.
func (s CookieStore) SaveStepUp(w http.ResponseWriter, _ *http.Request, p Pending) error {
	if len(s.Key) < 32 {
		return errors.New("stepgateclient: CookieStore.Key must have at least 32 bytes")
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	v := base64.RawURLEncoding.EncodeToString(b) + "." + s.sign(b)
	http.SetCookie(w, s.cookie(v, 600))
	return nil
}

// TakeStepUp implements StepUpStore.
func (s CookieStore) TakeStepUp(w http.ResponseWriter, r *http.Request, state string) (Pending, error) {
	c, err := r.Cookie(s.name())
	if err != nil {
		return Pending{}, ErrNoPending
	}
	http.SetCookie(w, s.cookie("", -1))
	payload, sig, _ := strings.Cut(c.Value, ".")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || !hmac.Equal([]byte(sig), []byte(s.sign(b))) {
		return Pending{}, ErrNoPending
	}
	var p Pending
	if json.Unmarshal(b, &p) != nil || state == "" || !hmac.Equal([]byte(p.State), []byte(state)) {
		return Pending{}, ErrNoPending
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if !now().Before(p.ExpiresAt) {
		return Pending{}, ErrNoPending
	}
	return p, nil
}
