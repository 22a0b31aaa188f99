package adminhttp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin/adminhttp"
)

func TestAnonymousIsSentToSignIn(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/", "/policies", "/policies/1", "/audit", "/audit/export?format=csv", "/clients", "/clients/new", "/policies/1/edit"} {
		t.Run(p, func(t *testing.T) {
			r := e.browser().get(p)
			if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
				t.Fatalf("GET %s: %d → %q, want 303 to /login", p, r.Code, r.Location)
			}
		})
	}
	if r := e.browser().get("/api/audit"); r.Code != http.StatusUnauthorized {
		t.Fatalf("GET /api/audit anonymously: %d, want 401", r.Code)
	}
}

func TestPasswordSignIn(t *testing.T) {
	tests := []struct {
		name, user, password string
		want                 int
	}{
		{"right password", "admin", testPassword, http.StatusSeeOther},
		{"wrong password", "admin", "nope-nope-nope", http.StatusUnauthorized},
		{"unknown user", "root", testPassword, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.get("/login")
			r := b.post("/login", url.Values{"user": {tc.user}, "password": {tc.password}})
			if r.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Code, tc.want, r.Body)
			}
			if tc.want != http.StatusSeeOther {
				mustContain(t, r, "wrong", `value="`+tc.user+`"`)
				return
			}
			ck := r.Header.Get("Set-Cookie")
			for _, attr := range []string{"HttpOnly", "SameSite=Lax", "sg_session="} {
				if !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), "\n"), attr) {
					t.Fatalf("session cookie lacks %s: %s", attr, ck)
				}
			}
		})
	}
}

func TestSecureCookieBehindTLS(t *testing.T) {
	e := newEnv(t, func(c *adminhttp.Config) { c.SecureCookies = true })
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"user": {"admin"}, "password": {testPassword}})
	if !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), "\n"), "Secure") {
		t.Fatalf("cookies are not Secure: %v", r.Header.Values("Set-Cookie"))
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for range 5 {
		b.get("/login")
		b.post("/login", url.Values{"user": {"admin"}, "password": {"wrong-wrong-wrong"}})
	}
	b.get("/login")
	r := b.post("/login", url.Values{"user": {"admin"}, "password": {testPassword}})
	if r.Code != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("6th attempt: %d, want 429 with Retry-After", r.Code)
	}
	e.clock.Advance(2 * time.Minute)
	b.get("/login")
	if r := b.post("/login", url.Values{"user": {"admin"}, "password": {testPassword}}); r.Code != http.StatusSeeOther {
		t.Fatalf("after waiting: %d, want 303", r.Code)
	}
}

func TestLoginNeedsItsCSRFToken(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"user": {"admin"}, "password": {testPassword}, "_csrf": {"forged"}})
	if r.Code != http.StatusForbidden {
		t.Fatalf("forged login CSRF: %d, want 403", r.Code)
	}
}

func TestSessionTimeouts(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration
		alive bool
	}{
		{"active within idle timeout", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, true},
		{"idle too long", []time.Duration{31 * time.Minute}, false},
		{"absolute timeout despite activity", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.signIn()
			var r response
			for _, d := range tc.steps {
				e.clock.Advance(d)
				r = b.get("/policies")
			}
			if alive := r.Code == http.StatusOK; alive != tc.alive {
				t.Fatalf("after %v: status %d → %q, alive=%v want %v", tc.steps, r.Code, r.Location, alive, tc.alive)
			}
		})
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	old := b.cookies["sg_session"]
	if r := b.post("/logout", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.Code)
	}
	b.cookies["sg_session"] = old // a copied cookie must not work any more
	if r := b.get("/policies"); r.Code != http.StatusSeeOther {
		t.Fatalf("old session after logout: %d, want redirect to sign-in", r.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.browser().get("/login")
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Fatalf("CSP allows unsafe code: %q", csp)
	}
	if r.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("X-Frame-Options = %q", r.Header.Get("X-Frame-Options"))
	}
	if strings.Contains(r.Body, "<script>") || strings.Contains(r.Body, " style=") || strings.Contains(r.Body, "onclick") {
		t.Fatal("page has inline script or style")
	}
}

// TestLoginFormSurvivesOtherSignInPages: a browser fetches /favicon.ico (or
// opens a second tab) while the sign-in form is on screen; that request
// lands on the sign-in page too and must not invalidate the form's token.
func TestLoginFormSurvivesOtherSignInPages(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get("/login")
	onScreen := b.csrf
	if r := b.get("/favicon.ico"); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("anonymous /favicon.ico: %d → %q, want the sign-in page", r.Code, r.Location)
	}
	b.get("/login?return_to=%2Ffavicon.ico")
	r := b.post("/login", url.Values{"user": {"admin"}, "password": {testPassword}, "_csrf": {onScreen}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("sign in with the first form's token after another sign-in page: %d, want 303", r.Code)
	}
}
