package adminhttp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
)

// fakeIdP adds a token endpoint to pdptest.Issuer that checks PKCE and
// returns an ID token with the nonce of the authorize request (or a wrong
// one when told to).
type fakeIdP struct {
	iss       *pdptest.Issuer
	mu        sync.Mutex
	challenge string
	nonce     string
	groups    []string
	badNonce  bool
	// sub is the subject of the ID token; "u-1" when empty.
	sub   string
	clock *clock
	// authTimeAgo is how many seconds before the token the IdP's session
	// authenticated the user (0: just now).
	authTimeAgo int64
}

func newFakeIdP(t *testing.T) *fakeIdP {
	f := &fakeIdP{iss: pdptest.NewIssuer(t), groups: []string{"sec-admins"}}
	f.iss.Handle("POST /token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		f.mu.Lock()
		defer f.mu.Unlock()
		if base64.RawURLEncoding.EncodeToString(sum[:]) != f.challenge || r.Form.Get("code") != "good-code" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		nonce := f.nonce
		if f.badNonce {
			nonce = "another-nonce"
		}
		now := f.clock.Now().Unix()
		sub := f.sub
		if sub == "" {
			sub = "u-1"
		}
		tok := f.iss.Mint(t, map[string]any{"iss": f.iss.URL(), "aud": "admin-ui", "sub": sub, "email": "ada@example.com",
			"groups": f.groups, "nonce": nonce, "iat": now, "exp": now + 300, "auth_time": now - f.authTimeAgo, "amr": []string{"pwd", "mfa"}})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": tok})
	}))
	return f
}

// start follows /auth/sso and records what the authorize URL carried.
func (f *fakeIdP) start(t *testing.T, b *browser) url.Values {
	t.Helper()
	return f.startWith(t, b, "")
}

// startWith is start with more query parameters for /auth/sso (a
// sensitive action's requirements).
func (f *fakeIdP) startWith(t *testing.T, b *browser, query string) url.Values {
	t.Helper()
	r := b.get("/auth/sso?return_to=/policies" + query)
	if r.Code != http.StatusFound {
		t.Fatalf("sso start: %d %s", r.Code, r.Body)
	}
	u, _ := url.Parse(r.Location)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("nonce") == "" {
		t.Fatalf("authorize URL lacks PKCE/state/nonce: %s", r.Location)
	}
	f.mu.Lock()
	f.challenge, f.nonce = q.Get("code_challenge"), q.Get("nonce")
	f.mu.Unlock()
	return q
}

func TestSSOCallback(t *testing.T) {
	tests := []struct {
		name     string
		state    func(q url.Values) string
		badNonce bool
		groups   []string
		noCookie bool
		want     int
		role     string
	}{
		{name: "good", state: func(q url.Values) string { return q.Get("state") }, want: http.StatusSeeOther, role: "admin"},
		{name: "auditor group", state: func(q url.Values) string { return q.Get("state") }, groups: []string{"compliance"}, want: http.StatusSeeOther, role: "auditor"},
		{name: "bad state", state: func(url.Values) string { return "forged" }, want: http.StatusBadRequest},
		{name: "missing state", state: func(url.Values) string { return "" }, want: http.StatusBadRequest},
		{name: "bad nonce", state: func(q url.Values) string { return q.Get("state") }, badNonce: true, want: http.StatusBadRequest},
		{name: "no role", state: func(q url.Values) string { return q.Get("state") }, groups: []string{"staff"}, want: http.StatusBadRequest},
		{name: "cookie lost", state: func(q url.Values) string { return q.Get("state") }, noCookie: true, want: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idp := newFakeIdP(t)
			e := newEnv(t, func(c *adminhttp.Config) {
				c.SSO = &adminhttp.SSOConfig{Issuer: idp.iss.URL(), ClientID: "admin-ui", RedirectURL: "http://admin.test/auth/callback",
					AdminValues: []string{"sec-admins"}, AuditorValues: []string{"compliance"}}
			})
			idp.clock = e.clock
			if tc.groups != nil {
				idp.groups = tc.groups
			}
			idp.badNonce = tc.badNonce
			b := e.browser()
			q := idp.start(t, b)
			if tc.noCookie {
				delete(b.cookies, "sg_sso")
			}
			r := b.get("/auth/callback?code=good-code&state=" + url.QueryEscape(tc.state(q)))
			if r.Code != tc.want {
				t.Fatalf("callback: %d, want %d\n%s", r.Code, tc.want, r.Body)
			}
			if tc.want != http.StatusSeeOther {
				if _, ok := b.cookies["sg_session"]; ok {
					t.Fatal("a rejected callback created a session")
				}
				return
			}
			r = b.get("/api/session")
			if !strings.Contains(r.Body, `"role":"`+tc.role+`"`) || !strings.Contains(r.Body, "ada@example.com") {
				t.Fatalf("session: %s", r.Body)
			}
			// The pending login is single use.
			if r := b.get("/auth/callback?code=good-code&state=" + url.QueryEscape(q.Get("state"))); r.Code != http.StatusBadRequest {
				t.Fatalf("replayed callback: %d", r.Code)
			}
		})
	}
}

// TestSSOReauthentication: the admin UI's re-authentication uses the same
// proof check as a step-up. A freshness window accepts an IdP session that
// is recent enough (no loop under single sign-on); a fresh login asks for
// max_age=0 and prompt=login and refuses it; amr requirements are checked.
func TestSSOReauthentication(t *testing.T) {
	tests := []struct {
		name        string
		query       string
		authTimeAgo int64
		maxAge      string // what the authorize URL must carry
		prompt      string
		want        int
	}{
		{"window met by an earlier sign-in", "&max_age=900", 120, "900", "", http.StatusSeeOther},
		{"window passed", "&max_age=60", 120, "60", "", http.StatusBadRequest},
		{"fresh login answered from the session", "&max_age=900&fresh_login=1", 120, "0", "login", http.StatusBadRequest},
		{"fresh login made now", "&max_age=900&fresh_login=1", 0, "0", "login", http.StatusSeeOther},
		{"amr the IdP did not use", "&max_age=900&amr_any=hwk", 0, "900", "", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idp := newFakeIdP(t)
			e := newEnv(t, func(c *adminhttp.Config) {
				c.SSO = &adminhttp.SSOConfig{Issuer: idp.iss.URL(), ClientID: "admin-ui", RedirectURL: "http://admin.test/auth/callback",
					AdminValues: []string{"sec-admins"}}
			})
			idp.clock, idp.authTimeAgo = e.clock, tc.authTimeAgo
			b := e.browser()
			q := idp.startWith(t, b, tc.query)
			if q.Get("max_age") != tc.maxAge || q.Get("prompt") != tc.prompt {
				t.Fatalf("authorize URL max_age %q prompt %q, want %q %q", q.Get("max_age"), q.Get("prompt"), tc.maxAge, tc.prompt)
			}
			r := b.get("/auth/callback?code=good-code&state=" + url.QueryEscape(q.Get("state")))
			if r.Code != tc.want {
				t.Fatalf("callback: %d, want %d\n%s", r.Code, tc.want, r.Body)
			}
		})
	}
}
