package adminhttp_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stepgate/stepgate/admin/adminhttp"
)

// hostileReturnTo are return_to values that look like paths but leave the
// site in a browser, or would after a decoding proxy.
var hostileReturnTo = []string{
	"/\t/evil.example/",
	"/%09/evil.example/",
	"/\n/evil.example/",
	"/%0A/evil.example/",
	"/%0d%0a/evil.example/",
	"//evil.example/",
	"/\\evil.example/",
	"/\\/evil.example/",
	"/%2F%2Fevil.example/",
	"/%5Cevil.example/",
	"/%5C%5Cevil.example/",
	"https://evil.example/",
	"javascript:alert(1)",
}

// TestReturnToStaysOnSite: every place that reads return_to — the sign-in
// page of a signed-in browser, the password form, re-authentication and
// single sign-on — sends the browser to "/" for a hostile value.
func TestReturnToStaysOnSite(t *testing.T) {
	for _, raw := range hostileReturnTo {
		t.Run(url.PathEscape(raw), func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.get("/login?return_to=" + url.QueryEscape(raw))
			if got := fieldValue(b.get("/login?return_to="+url.QueryEscape(raw)).Body, "return_to"); got != "/" {
				t.Errorf("sign-in form keeps return_to %q", got)
			}
			r := b.post("/login", url.Values{"user": {"admin"}, "password": {testPassword}, "return_to": {raw}})
			if r.Code != http.StatusSeeOther || r.Location != "/" {
				t.Fatalf("password sign-in: %d → %q, want 303 to /", r.Code, r.Location)
			}
			if r := b.get("/login?return_to=" + url.QueryEscape(raw)); r.Code != http.StatusSeeOther || r.Location != "/" {
				t.Fatalf("signed-in /login: %d → %q, want 303 to /", r.Code, r.Location)
			}
			if got := fieldValue(b.get("/auth/reauth?return_to="+url.QueryEscape(raw)).Body, "return_to"); got != "/" {
				t.Errorf("re-authentication form keeps return_to %q", got)
			}
			r = b.post("/auth/reauth", url.Values{"password": {testPassword}, "return_to": {raw}})
			if r.Code != http.StatusSeeOther || r.Location != "/" {
				t.Fatalf("re-authentication: %d → %q, want 303 to /", r.Code, r.Location)
			}
		})
	}
}

func TestSSOReturnToStaysOnSite(t *testing.T) {
	for _, raw := range hostileReturnTo {
		t.Run(url.PathEscape(raw), func(t *testing.T) {
			idp := newFakeIdP(t)
			e := newEnv(t, func(c *adminhttp.Config) {
				c.SSO = &adminhttp.SSOConfig{Issuer: idp.iss.URL(), ClientID: "admin-ui", RedirectURL: "http://admin.test/auth/callback",
					AdminValues: []string{"sec-admins"}}
			})
			idp.clock = e.clock
			b := e.browser()
			r := b.get("/auth/sso?return_to=" + url.QueryEscape(raw))
			if r.Code != http.StatusFound {
				t.Fatalf("sso start: %d %s", r.Code, r.Body)
			}
			u, _ := url.Parse(r.Location)
			q := u.Query()
			idp.mu.Lock()
			idp.challenge, idp.nonce = q.Get("code_challenge"), q.Get("nonce")
			idp.mu.Unlock()
			r = b.get("/auth/callback?code=good-code&state=" + url.QueryEscape(q.Get("state")))
			if r.Code != http.StatusSeeOther || r.Location != "/" {
				t.Fatalf("callback: %d → %q, want 303 to /\n%s", r.Code, r.Location, r.Body)
			}
		})
	}
}
