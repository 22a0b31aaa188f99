package adminhttp_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/admin/adminhttp"
)

// signInFrom posts the sign-in form from the peer remote (ip:port) with an
// optional X-Forwarded-For, as a fresh browser, and returns the status.
func signInFrom(t *testing.T, e *env, remote, xff, password string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/login", nil)
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	var tok string
	for _, c := range rec.Result().Cookies() {
		if c.Name == "sg_login" {
			tok = c.Value
		}
	}
	form := url.Values{"user": {"admin"}, "password": {password}, "_csrf": {tok}}
	req = httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.RemoteAddr = remote
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "sg_login", Value: tok})
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	rec = httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec.Code
}

const wrongPassword = "wrong-wrong-wrong"

// TestSpoofedForwardedForIsIgnored: without trusted proxies, a client
// cannot escape its address's limit by naming another address in
// X-Forwarded-For.
func TestSpoofedForwardedForIsIgnored(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		if code := signInFrom(t, e, "198.51.100.7:4000", "203.0.113."+itoa(i+1), wrongPassword); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, code)
		}
	}
	if code := signInFrom(t, e, "198.51.100.7:4001", "203.0.113.99", testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("a fresh X-Forwarded-For from the same peer: %d, want 429", code)
	}
}

// TestTrustedProxyNamesTheClient: behind a configured proxy, the address
// it forwards is the client's, so two clients behind it are limited apart;
// a proxy outside the configured networks is not believed.
func TestTrustedProxyNamesTheClient(t *testing.T) {
	e := newEnv(t, func(c *adminhttp.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")} })
	for range 5 {
		signInFrom(t, e, "10.0.0.2:5000", "203.0.113.5", wrongPassword)
	}
	if code := signInFrom(t, e, "10.0.0.2:5000", "203.0.113.5", testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("the limited client behind the proxy: %d, want 429", code)
	}
	if code := signInFrom(t, e, "10.0.0.2:5000", "203.0.113.6", testPassword); code != http.StatusSeeOther {
		t.Fatalf("another client behind the proxy: %d, want 303", code)
	}
	// 10.0.1.2 is not a trusted proxy: its X-Forwarded-For is ignored, so
	// spoofing a header from there does not dodge the peer's own limit.
	for range 5 {
		signInFrom(t, e, "10.0.1.2:5000", "203.0.113.7", wrongPassword)
	}
	if code := signInFrom(t, e, "10.0.1.2:5000", "203.0.113.8", testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("an untrusted peer with a spoofed header: %d, want 429", code)
	}
}

// TestAttackerCannotLockOutTheAdmin: an attacker hammering the account from
// one address gets 429s; the real admin signs in from another address.
func TestAttackerCannotLockOutTheAdmin(t *testing.T) {
	e := newEnv(t)
	for range 50 {
		signInFrom(t, e, "198.51.100.7:4000", "", wrongPassword)
	}
	if code := signInFrom(t, e, "198.51.100.7:4000", "", testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("the attacker's address: %d, want 429", code)
	}
	if code := signInFrom(t, e, "192.0.2.10:5000", "", testPassword); code != http.StatusSeeOther {
		t.Fatalf("the admin at another address: %d, want 303", code)
	}
}
