// Package enrollmenttest runs a stand-in for Auth0's Management API that
// follows its documented request and response shapes: the client-credentials
// token endpoint (POST /oauth/token, audience https://<tenant>/api/v2/) and
// the list of a user's authentication methods
// (GET /api/v2/users/{id}/authentication-methods, a bare JSON array, paged
// with page and per_page). Tests make it answer 401 for an expired or
// revoked token, 429 with Retry-After, or 503 for an outage, and count what
// was asked.
package enrollmenttest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Method is one of a user's authentication methods as the Management API
// lists it.
type Method struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Confirmed bool   `json:"confirmed"`
	Name      string `json:"name,omitempty"`
	CreatedAt string `json:"created_at"`
	// AuthenticationMethods is what a guardian enrollment offers.
	AuthenticationMethods []SubMethod `json:"authentication_methods,omitempty"`
}

// SubMethod is one member of a guardian enrollment.
type SubMethod struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Push is a confirmed Guardian push authenticator.
func Push(id string) Method {
	return Method{ID: "push|" + id, Type: "push", Confirmed: true, Name: "Guardian on " + id, CreatedAt: "2026-01-02T03:04:05.000Z"}
}

// TOTP is a confirmed one-time-password authenticator (not push-capable).
func TOTP(id string) Method {
	return Method{ID: "totp|" + id, Type: "totp", Confirmed: true, CreatedAt: "2026-01-02T03:04:05.000Z"}
}

// Server is the fake Management API. Configure it before use; its methods
// are safe for concurrent use.
type Server struct {
	*httptest.Server
	ClientID     string
	ClientSecret string

	mu            sync.Mutex
	now           func() time.Time
	tokenLifetime time.Duration
	users         map[string][]Method
	tokens        map[string]time.Time // access token → expiry
	limited       int                  // requests still answered 429
	retryAfter    time.Duration
	down          bool
	refuseTokens  bool
	delay         time.Duration
	tokenCalls    int
	methodCalls   int
	lastUserPath  string
}

// New starts a server closed at the end of the test. Tokens live 24 hours
// (Auth0's default) unless SetTokenLifetime says otherwise; now is its
// clock for token expiry (nil: time.Now).
func New(t testing.TB, now func() time.Time) *Server {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	s := &Server{ClientID: "m2m-client", ClientSecret: "m2m-secret", now: now, tokenLifetime: 24 * time.Hour,
		users: map[string][]Method{}, tokens: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("GET /api/v2/users/{id}/authentication-methods", s.methods)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Audience is the Management API audience of this tenant.
func (s *Server) Audience() string { return s.URL + "/api/v2/" }

// SetUser sets a user's authentication methods (none: enrolled in nothing).
func (s *Server) SetUser(sub string, methods ...Method) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[sub] = methods
}

// SetTokenLifetime sets expires_in of tokens issued from now on.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLifetime = d
}

// RevokeTokens makes every token issued so far answer 401, as a rotated
// signing key or a revoked grant would.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// RefuseTokens makes the API answer 401 to every token, new ones too, as
// a grant missing read:authentication_methods' audience would.
func (s *Server) RefuseTokens(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseTokens = refuse
}

// RateLimit answers the next n requests (token or API) with 429 and
// Retry-After in whole seconds.
func (s *Server) RateLimit(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.retryAfter = n, retryAfter
}

// SetDown makes every request answer 503 while down is true.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// SetDelay makes every request wait d before answering.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// TokenRequests is how many token requests arrived.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// MethodRequests is how many authentication-method lists were asked for.
func (s *Server) MethodRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.methodCalls
}

// LastUserPath is the escaped path of the last authentication-methods
// request, to check how the user id was encoded.
func (s *Server) LastUserPath() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastUserPath
}

// gate applies outage, rate limit and delay; false means it answered.
func (s *Server) gate(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	down, delay := s.down, s.delay
	limited := s.limited > 0
	retry := s.retryAfter
	if limited {
		s.limited--
	}
	reset := s.now().Add(retry).Unix()
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return false
		}
	}
	switch {
	case down:
		apiError(w, http.StatusServiceUnavailable, "Service Unavailable", "The service is temporarily unavailable.", "")
		return false
	case limited:
		w.Header().Set("Retry-After", strconv.Itoa(int(retry/time.Second)))
		w.Header().Set("X-RateLimit-Limit", "10")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		apiError(w, http.StatusTooManyRequests, "Too Many Requests", "Global limit has been reached", "too_many_requests")
		return false
	}
	return true
}

// token is POST /oauth/token with the client-credentials grant, form or
// JSON encoded, as Auth0 accepts both.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokenCalls++
	s.mu.Unlock()
	if !s.gate(w, r) {
		return
	}
	var p struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Audience     string `json:"audience"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "malformed JSON body")
			return
		}
	} else {
		if err := r.ParseForm(); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
			return
		}
		p.GrantType, p.ClientID, p.ClientSecret, p.Audience = r.PostForm.Get("grant_type"),
			r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), r.PostForm.Get("audience")
	}
	switch {
	case p.GrantType != "client_credentials":
		oauthError(w, http.StatusForbidden, "unauthorized_client", "Grant type '"+p.GrantType+"' not allowed for the client.")
		return
	case p.ClientID != s.ClientID || p.ClientSecret != s.ClientSecret:
		oauthError(w, http.StatusUnauthorized, "access_denied", "Unauthorized")
		return
	case p.Audience != s.Audience():
		oauthError(w, http.StatusForbidden, "access_denied", "Service not enabled within domain: "+p.Audience)
		return
	}
	tok := rand.Text()
	s.mu.Lock()
	life := s.tokenLifetime
	s.tokens[tok] = s.now().Add(life)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int64(life / time.Second), "scope": "read:authentication_methods"})
}

// methods is GET /api/v2/users/{id}/authentication-methods.
func (s *Server) methods(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.methodCalls++
	s.lastUserPath = r.URL.EscapedPath()
	s.mu.Unlock()
	if !s.gate(w, r) {
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	exp, known := s.tokens[tok]
	known = known && !s.refuseTokens
	expired := known && !s.now().Before(exp)
	methods, user := s.users[r.PathValue("id")]
	s.mu.Unlock()
	switch {
	case !ok || !known:
		apiError(w, http.StatusUnauthorized, "Unauthorized", "Invalid token", "")
		return
	case expired:
		apiError(w, http.StatusUnauthorized, "Unauthorized", "Expired token received for JSON Web Token validation", "")
		return
	case !user:
		apiError(w, http.StatusNotFound, "Not Found", "The user does not exist.", "inexistent_user")
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, err := strconv.Atoi(r.URL.Query().Get("per_page"))
	if err != nil || per <= 0 || per > 100 {
		per = 50
	}
	lo, hi := min(page*per, len(methods)), min((page+1)*per, len(methods))
	out := methods[lo:hi]
	if out == nil {
		out = []Method{}
	}
	if r.URL.Query().Get("include_totals") == "true" {
		writeJSON(w, http.StatusOK, map[string]any{"start": lo, "limit": per, "total": len(methods), "authenticators": out})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func apiError(w http.ResponseWriter, status int, errText, message, code string) {
	body := map[string]any{"statusCode": status, "error": errText, "message": message}
	if code != "" {
		body["errorCode"] = code
	}
	writeJSON(w, status, body)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
