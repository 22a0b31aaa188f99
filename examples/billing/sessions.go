package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// sessionCookie holds the session's secret key.
const sessionCookie = "billing_session"

// session is a signed-in user. Everything but the payments is fixed at
// sign-in; payments are read and written through the store's lock.
type session struct {
	key string // the cookie value; never leaves the app
	// id names the session at stepgate (elevations, revocation).
	id          string
	sub, email  string
	claims      map[string]any // the verified sign-in ID token
	token       string         // the access token stepgate decides on
	signedInAt  time.Time
	expires     time.Time
	payments    map[string]*payment
	paymentSeq  []string // payment ids, oldest first
	maxPayments int
}

func (s *session) accessToken() string {
	if s == nil {
		return ""
	}
	return s.token
}

func (s *session) publicID() string {
	if s == nil {
		return ""
	}
	return s.id
}

// sessionStore keeps sessions in memory.
type sessionStore struct {
	mu       sync.Mutex
	byKey    map[string]*session
	now      func() time.Time
	ttl      time.Duration
	capacity int
}

func newSessionStore(now func() time.Time, ttl time.Duration) *sessionStore {
	return &sessionStore{byKey: map[string]*session{}, now: now, ttl: ttl, capacity: 10000}
}

// create stores a new session for a verified sign-in, valid until the
// earlier of the store's TTL and tokenExpiry.
func (st *sessionStore) create(sub, email, token string, claims map[string]any, tokenExpiry time.Time) (*session, error) {
	key, err := randomString(32)
	if err != nil {
		return nil, err
	}
	id, err := randomString(18)
	if err != nil {
		return nil, err
	}
	now := st.now()
	expires := now.Add(st.ttl)
	if !tokenExpiry.IsZero() && tokenExpiry.Before(expires) {
		expires = tokenExpiry
	}
	s := &session{key: key, id: "billing-" + id, sub: sub, email: email, claims: claims, token: token,
		signedInAt: now, expires: expires, payments: map[string]*payment{}, maxPayments: 50}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.pruneLocked(now)
	if len(st.byKey) >= st.capacity {
		return nil, fmt.Errorf("create session: %d sessions open", len(st.byKey))
	}
	st.byKey[key] = s
	return s, nil
}

// get returns the unexpired session named by r's cookie, or nil.
func (st *sessionStore) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byKey[c.Value]
	if s != nil && !st.now().Before(s.expires) {
		delete(st.byKey, c.Value)
		return nil
	}
	return s
}

// delete ends a session.
func (st *sessionStore) delete(s *session) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.byKey, s.key)
}

func (st *sessionStore) pruneLocked(now time.Time) {
	for k, s := range st.byKey {
		if !now.Before(s.expires) {
			delete(st.byKey, k)
		}
	}
}

// addPayment records a payment in s, forgetting the oldest beyond the limit.
func (st *sessionStore) addPayment(s *session, p payment) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := s.payments[p.ID]; !ok {
		s.paymentSeq = append(s.paymentSeq, p.ID)
	}
	s.payments[p.ID] = &p
	for len(s.paymentSeq) > s.maxPayments {
		delete(s.payments, s.paymentSeq[0])
		s.paymentSeq = s.paymentSeq[1:]
	}
}

// payment returns a copy of s's payment id.
func (st *sessionStore) payment(s *session, id string) (payment, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	p, ok := s.payments[id]
	if !ok {
		return payment{}, false
	}
	return *p, true
}

// paymentsOf returns copies of s's payments, newest first.
func (st *sessionStore) paymentsOf(s *session) []payment {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]payment, 0, len(s.paymentSeq))
	for _, id := range slices.Backward(s.paymentSeq) {
		out = append(out, *s.payments[id])
	}
	return out
}

// setSessionCookie sends s's key; SameSite=Lax so that it accompanies the IdP's
// redirect back to the app.
func setSessionCookie(w http.ResponseWriter, s *session, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.key, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, Expires: s.expires})
}

func clearSessionCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

func randomString(n int) (string, error) {
	b, err := randomBytes(n)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// sessionOf is the request's session (nil when not signed in).
func (a *App) sessionOf(r *http.Request) *session { return a.sessions.get(r) }
