package forwardauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// tokenEndpoint is the fake IdP's token endpoint: it redeems codes the
// test issued, once, only with the PKCE verifier of their challenge.
type tokenEndpoint struct {
	mu    sync.Mutex
	codes map[string]issued
}

type issued struct {
	challenge, redirectURI, idToken string
}

func (e *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	c, ok := e.codes[r.PostForm.Get("code")]
	delete(e.codes, r.PostForm.Get("code"))
	e.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge || r.PostForm.Get("redirect_uri") != c.redirectURI ||
		r.PostForm.Get("client_id") != webApp {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": c.idToken})
}

// browser is one user agent at https://app.example behind a Traefik-style
// proxy: it keeps stepgate's cookies and signs in at the fake IdP.
type browser struct {
	t       *testing.T
	s       *stack
	idp     *fakeIdP
	tokens  *tokenEndpoint
	host    string
	cookies map[string]string
}

func (b *browser) headers(extra ...string) map[string]string {
	h := traefik("/", "X-Forwarded-Host", b.host, "Accept", "text/html")
	var parts []string
	for k, v := range b.cookies {
		parts = append(parts, k+"="+v)
	}
	if len(parts) > 0 {
		h["Cookie"] = strings.Join(parts, "; ")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

func (b *browser) keep(resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
}

// visit asks forward auth about uri.
func (b *browser) visit(uri string) *http.Response {
	resp := call(b.t, b.s, b.headers("X-Forwarded-Uri", uri))
	b.keep(resp)
	return resp
}

// login plays the IdP for the authorize URL in resp: it issues a code for
// an ID token with the methods amr, and returns the callback URL.
func (b *browser) login(resp *http.Response, amr []string) string {
	b.t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		b.t.Fatalf("want a redirect to the IdP, got %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	q := loc.Query()
	now := time.Now()
	id := b.idp.Mint(b.t, map[string]any{"sub": "alice", "aud": webApp, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"auth_time": now.Unix(), "amr": amr, "nonce": q.Get("nonce"), "sid": "idp-session-1"})
	code := "code-" + q.Get("state")[:8]
	b.tokens.mu.Lock()
	b.tokens.codes[code] = issued{challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri"), idToken: id}
	b.tokens.mu.Unlock()
	return q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
}

// callback follows the IdP's redirect back to stepgate's callback path.
func (b *browser) callback(rawURL string) *http.Response {
	b.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		b.t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(b.t.Context(), http.MethodGet, b.s.srv.URL+u.RequestURI(), nil)
	for k, v := range b.headers() {
		if k == "Cookie" || k == "X-Forwarded-Host" || k == "X-Forwarded-Proto" {
			req.Header.Set(k, v)
		}
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { resp.Body.Close() })
	b.keep(resp)
	return resp
}

func newBrowser(t *testing.T) *browser {
	idp := newFakeIdP(t)
	tokens := &tokenEndpoint{codes: map[string]issued{}}
	idp.Handle("POST /token", tokens)
	return &browser{t: t, s: newStack(t, stackConfig{issuer: idp.cfg}), idp: idp, tokens: tokens, host: "app.example", cookies: map[string]string{}}
}

func TestSignInStepUpSignOut(t *testing.T) {
	b := newBrowser(t)
	back := b.callback(b.login(b.visit("/welcome?x=1"), []string{"pwd"}))
	if back.StatusCode != http.StatusSeeOther || back.Header.Get("Location") != "https://app.example/welcome?x=1" {
		t.Fatalf("callback: %s to %q", back.Status, back.Header.Get("Location"))
	}
	ck := cookieNamed(back, "stepgate_session")
	if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Domain != "" || ck.Expires.IsZero() {
		t.Fatalf("session cookie %+v; want HttpOnly, Secure, SameSite=Lax, host-only, expiring", ck)
	}
	if _, pending := b.cookies["stepgate_session_pending"]; pending {
		t.Fatal("the pending sign-in cookie outlived its callback")
	}
	if resp := b.visit("/welcome"); resp.StatusCode != http.StatusOK || resp.Header.Get("X-Stepgate-Subject") != "alice" {
		t.Fatalf("signed in: %s, subject %q", resp.Status, resp.Header.Get("X-Stepgate-Subject"))
	}
	signedIn := b.cookies["stepgate_session"]

	// /billing needs MFA: the session steps up, keeping its id.
	stepUp := b.visit("/billing")
	if q := mustURL(t, stepUp.Header.Get("Location")).Query(); q.Get("acr_values") == "" || q.Get("max_age") != "900" {
		t.Fatalf("step-up authorize request %v; want acr_values and max_age=900", q)
	}
	if back := b.callback(b.login(stepUp, []string{"pwd", "otp", "mfa"})); back.Header.Get("Location") != "https://app.example/billing" {
		t.Fatalf("step-up callback: %s to %q", back.Status, back.Header.Get("Location"))
	}
	if resp := b.visit("/billing"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after step-up: %s", resp.Status)
	}
	if !b.s.audits.hasFlow("stepup", "verified", 2) {
		t.Fatalf("sign-in and step-up not audited as verified: %+v", b.s.audits.flows)
	}

	// Sign-out clears the cookie, revokes the session, and the next
	// sign-in is a fresh login.
	steppedUp := b.cookies["stepgate_session"]
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, b.s.srv.URL+"/_stepgate/signout?rd=/bye", nil)
	req.Header.Set("Cookie", "stepgate_session="+steppedUp)
	req.Header.Set("X-Forwarded-Host", "app.example")
	req.Header.Set("X-Forwarded-Proto", "https")
	out, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	b.keep(out)
	if out.StatusCode != http.StatusSeeOther || out.Header.Get("Location") != "https://app.example/bye" || b.cookies["stepgate_session"] != "" {
		t.Fatalf("sign-out: %s to %q, cookie left %q", out.Status, out.Header.Get("Location"), b.cookies["stepgate_session"])
	}
	if q := mustURL(t, b.visit("/welcome").Header.Get("Location")).Query(); q.Get("prompt") != "login" || q.Get("max_age") != "0" {
		t.Fatalf("sign-in after sign-out asks %v; want a fresh login", q)
	}
	for name, v := range map[string]string{"stepped-up": steppedUp, "earlier": signedIn} {
		copied := &browser{t: t, s: b.s, idp: b.idp, tokens: b.tokens, host: b.host, cookies: map[string]string{"stepgate_session": v}}
		resp := copied.visit("/welcome")
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("the %s cookie of a signed-out session still counts", name)
		}
		if q := mustURL(t, resp.Header.Get("Location")).Query(); q.Get("max_age") != "0" {
			t.Fatalf("the %s cookie of a signed-out session: %s %v; want a fresh login", name, resp.Status, q)
		}
	}
}

func TestCallbackRefusals(t *testing.T) {
	t.Run("no pending sign-in", func(t *testing.T) {
		b := newBrowser(t)
		if resp := b.callback("https://app.example/_stepgate/callback?code=x&state=y"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s", resp.Status)
		}
	})
	t.Run("another state", func(t *testing.T) {
		b := newBrowser(t)
		cb := b.login(b.visit("/"), []string{"pwd"})
		if resp := b.callback(strings.Replace(cb, "state=", "state=x", 1)); resp.StatusCode != http.StatusBadRequest || cookieNamed(resp, "stepgate_session") != nil {
			t.Fatalf("%s", resp.Status)
		}
	})
	t.Run("a sign-in started on another host", func(t *testing.T) {
		b := newBrowser(t)
		cb := b.login(b.visit("/"), []string{"pwd"})
		b.host = "other.example"
		if resp := b.callback(cb); resp.StatusCode != http.StatusBadRequest || cookieNamed(resp, "stepgate_session") != nil {
			t.Fatalf("%s", resp.Status)
		}
	})
	t.Run("a replayed callback", func(t *testing.T) {
		b := newBrowser(t)
		start := b.visit("/")
		pending := b.cookies["stepgate_session_pending"]
		cb := b.login(start, []string{"pwd"})
		if resp := b.callback(cb); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: %s", resp.Status)
		}
		b.cookies = map[string]string{"stepgate_session_pending": pending}
		if resp := b.callback(cb); resp.StatusCode == http.StatusSeeOther || cookieNamed(resp, "stepgate_session") != nil {
			t.Fatalf("replay: %s", resp.Status)
		}
	})
	t.Run("a token for another user on step-up", func(t *testing.T) {
		b := newBrowser(t)
		b.callback(b.login(b.visit("/"), []string{"pwd"}))
		stepUp := b.visit("/billing")
		loc := mustURL(t, stepUp.Header.Get("Location")).Query()
		now := time.Now()
		id := b.idp.Mint(t, map[string]any{"sub": "mallory", "aud": webApp, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"auth_time": now.Unix(), "amr": []string{"pwd", "otp", "mfa"}, "nonce": loc.Get("nonce")})
		b.tokens.mu.Lock()
		b.tokens.codes["mallory"] = issued{challenge: loc.Get("code_challenge"), redirectURI: loc.Get("redirect_uri"), idToken: id}
		b.tokens.mu.Unlock()
		resp := b.callback(loc.Get("redirect_uri") + "?code=mallory&state=" + url.QueryEscape(loc.Get("state")))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s", resp.Status)
		}
		if resp := b.visit("/billing"); resp.StatusCode == http.StatusOK {
			t.Fatal("another user's token stepped alice's session up")
		}
	})
	t.Run("an off-site rd on sign-out", func(t *testing.T) {
		b := newBrowser(t)
		for _, rd := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "evil"} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, b.s.srv.URL+"/_stepgate/signout?rd="+url.QueryEscape(rd), nil)
			resp, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("rd=%q: %s", rd, resp.Status)
			}
		}
	})
}

func mustURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		t.Fatalf("not a URL: %q", raw)
	}
	return u
}
