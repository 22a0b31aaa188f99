package forwardauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/forwardauth"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

const webApp = "web-app"

// fakeIdP is a pdptest.Issuer configured with an authorize client and a
// CIBA client, minting tokens for alice.
type fakeIdP struct {
	*pdptest.Issuer
	cfg trust.IssuerConfig
}

func newFakeIdP(t testing.TB) *fakeIdP {
	iss := pdptest.NewIssuer(t)
	cfg := iss.Config(pdptest.DefaultAudience, webApp)
	cfg.Authorize = &trust.AuthorizeConfig{ClientID: webApp, RedirectURI: "https://unused.example/cb", Scopes: []string{"openid"}}
	cfg.CIBA = &trust.CIBAConfig{ClientID: "ciba", ClientSecret: "secret", LoginHint: "sub"}
	return &fakeIdP{Issuer: iss, cfg: cfg}
}

// token mints an access token of alice with the given methods, signed in
// age ago.
func (f *fakeIdP) token(t testing.TB, amr []string, age time.Duration) string {
	now := time.Now()
	return f.Mint(t, map[string]any{"sub": "alice", "aud": pdptest.DefaultAudience, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "auth_time": now.Add(-age).Unix(), "amr": amr})
}

// call sends one forward-auth subrequest as a proxy would.
func call(t testing.TB, s *stack, h map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.srv.URL+"/v1/forward-auth", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var noRedirects = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// traefik is a Traefik-style subrequest for uri on https://app.example.
func traefik(uri string, extra ...string) map[string]string {
	h := map[string]string{"X-Stepgate-Client-Key": proxyKey, "X-Forwarded-Method": "GET", "X-Forwarded-Proto": "https",
		"X-Forwarded-Host": "app.example", "X-Forwarded-Uri": uri}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(h, extra[i])
			continue
		}
		h[extra[i]] = extra[i+1]
	}
	return h
}

func body(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return m
}

func TestForwardAuthAnswers(t *testing.T) {
	idp := newFakeIdP(t)
	s := newStack(t, stackConfig{issuer: idp.cfg, routes: []forwardauth.Route{
		{Path: "/billing/**", Action: "billing.view", ResourceType: "page"},
		{Path: "/wire", Action: "wire.send"},
		{Path: "/secret", Action: "secret.view"},
	}})
	mfa := idp.token(t, []string{"pwd", "otp", "mfa"}, time.Minute)
	pwd := idp.token(t, []string{"pwd"}, time.Minute)
	html, api := "text/html,application/xhtml+xml", "application/json"

	t.Run("allow carries the decision and the subject", func(t *testing.T) {
		resp := call(t, s, traefik("/billing/invoices", "Authorization", "Bearer "+mfa, "Accept", html))
		id := resp.Header.Get(forwardauth.HeaderDecisionID)
		if resp.StatusCode != http.StatusOK || resp.Header.Get(forwardauth.HeaderSubject) != "alice" || id == "" {
			t.Fatalf("%s, subject %q, decision %q", resp.Status, resp.Header.Get(forwardauth.HeaderSubject), id)
		}
		ev, ok := s.audits.decision(id)
		if !ok || ev.ClientID != proxyClient || ev.Action != "billing.view" || ev.ResourceType != "page" || ev.ResourceID != "/billing/invoices" {
			t.Fatalf("audited as %+v (%v)", ev, ok)
		}
	})
	t.Run("a password-only token gets RFC 9470, browser or not", func(t *testing.T) {
		for _, accept := range []string{html, api} {
			resp := call(t, s, traefik("/billing", "Authorization", "Bearer "+pwd, "Accept", accept))
			ch := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(ch, `error="insufficient_user_authentication"`) ||
				!strings.Contains(ch, `max_age="900"`) || resp.Header.Get("Location") != "" {
				t.Fatalf("Accept %s: %s, WWW-Authenticate %q, Location %q", accept, resp.Status, ch, resp.Header.Get("Location"))
			}
			if b := body(t, resp); b["decision"] != "step_up" || b["decision_id"] == "" {
				t.Fatalf("body %v", b)
			}
		}
	})
	t.Run("a bad token is 401 invalid_token", func(t *testing.T) {
		resp := call(t, s, traefik("/", "Authorization", "Bearer "+pwd[:len(pwd)-4]+"AAAA", "Accept", api))
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("%s, %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("deny is 403", func(t *testing.T) {
		resp := call(t, s, traefik("/secret", "Authorization", "Bearer "+mfa, "Accept", api))
		if b := body(t, resp); resp.StatusCode != http.StatusForbidden || b["decision"] != "deny" {
			t.Fatalf("%s %v", resp.Status, b)
		}
	})
	t.Run("ciba is 401 with the status link", func(t *testing.T) {
		resp := call(t, s, traefik("/wire", "Authorization", "Bearer "+mfa, "Accept", api))
		link := resp.Header.Get(forwardauth.HeaderCIBAStatus)
		b := body(t, resp)
		cb, _ := b["ciba"].(map[string]any)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(link, "/v1/ciba/") || b["decision"] != "ciba" || cb["status_url"] != link {
			t.Fatalf("%s, link %q, body %v", resp.Status, link, b)
		}
	})
	t.Run("no credentials: a browser is sent to sign in", func(t *testing.T) {
		resp := call(t, s, traefik("/billing?x=1", "Accept", html))
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("redirect_uri") != "https://app.example/_stepgate/callback" ||
			loc.Query().Get("client_id") != webApp || loc.Query().Get("code_challenge_method") != "S256" {
			t.Fatalf("%s to %q", resp.Status, resp.Header.Get("Location"))
		}
		ck := cookieNamed(resp, "stepgate_session_pending")
		if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Domain != "" {
			t.Fatalf("pending cookie %+v; want HttpOnly, Secure on https, SameSite=Lax, host-only", ck)
		}
	})
	t.Run("no credentials: NGINX gets 401 with Location", func(t *testing.T) {
		resp := call(t, s, map[string]string{"X-Stepgate-Client-Key": proxyKey, "X-Original-Method": "GET",
			"X-Original-URI": "/", "X-Forwarded-Host": "127.0.0.1:8000", "Accept": html})
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Location"), idp.URL()+"/authorize?") {
			t.Fatalf("%s to %q", resp.Status, resp.Header.Get("Location"))
		}
		if ck := cookieNamed(resp, "stepgate_session_pending"); ck == nil || ck.Secure {
			t.Fatalf("pending cookie %+v; want one, not Secure on http", ck)
		}
	})
	t.Run("no credentials: an API call gets a Bearer challenge", func(t *testing.T) {
		resp := call(t, s, traefik("/billing", "Accept", api))
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="stepgate"` || resp.Header.Get("Location") != "" {
			t.Fatalf("%s, %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("the proxy must authenticate", func(t *testing.T) {
		for _, key := range []string{"", "sgk_wrong"} {
			if resp := call(t, s, traefik("/", "X-Stepgate-Client-Key", key, "Authorization", "Bearer "+mfa)); resp.StatusCode != http.StatusUnauthorized ||
				resp.Header.Get(forwardauth.HeaderDecisionID) != "" {
				t.Fatalf("key %q: %s", key, resp.Status)
			}
		}
	})
	t.Run("a subrequest without the original URI is 400", func(t *testing.T) {
		if resp := call(t, s, traefik("", "Authorization", "Bearer "+mfa)); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s", resp.Status)
		}
	})
	t.Run("X-Stepgate-Action is ignored unless enabled", func(t *testing.T) {
		resp := call(t, s, traefik("/", "Authorization", "Bearer "+pwd, "X-Stepgate-Action", "billing.view"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: the user's X-Stepgate-Action was obeyed", resp.Status)
		}
	})
}

func TestForwardAuthProxyOptions(t *testing.T) {
	idp := newFakeIdP(t)
	pwd := idp.token(t, []string{"pwd"}, time.Minute)
	t.Run("X-Stepgate-Action when enabled", func(t *testing.T) {
		s := newStack(t, stackConfig{issuer: idp.cfg, header: true})
		if resp := call(t, s, traefik("/", "Authorization", "Bearer "+pwd, "X-Stepgate-Action", "billing.view")); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s, want the step-up billing.view asks for", resp.Status)
		}
	})
	t.Run("a deny default refuses unmatched routes", func(t *testing.T) {
		s := newStack(t, stackConfig{issuer: idp.cfg, def: forwardauth.DefaultRoute{Deny: true}})
		if resp := call(t, s, traefik("/other", "Authorization", "Bearer "+pwd)); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s", resp.Status)
		}
	})
	t.Run("a trusted proxy address needs no key", func(t *testing.T) {
		s := newStack(t, stackConfig{issuer: idp.cfg, trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		resp := call(t, s, traefik("/", "X-Stepgate-Client-Key", "", "Authorization", "Bearer "+pwd))
		ev, _ := s.audits.decision(resp.Header.Get(forwardauth.HeaderDecisionID))
		if resp.StatusCode != http.StatusOK || ev.ClientID != proxyClient {
			t.Fatalf("%s, audited client %q", resp.Status, ev.ClientID)
		}
		other := newStack(t, stackConfig{issuer: idp.cfg, trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		if resp := call(t, other, traefik("/", "X-Stepgate-Client-Key", "", "Authorization", "Bearer "+pwd)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("an untrusted address: %s", resp.Status)
		}
	})
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Decide gives other transports (Envoy ext_authz) the same answers as the
// HTTP subrequest, from the original request's facts and headers.
func TestDecideWithoutHTTP(t *testing.T) {
	idp := newFakeIdP(t)
	s := newStack(t, stackConfig{issuer: idp.cfg})
	o := forwardauth.Original{Method: "GET", Scheme: "https", Host: "app.example", URI: "/billing", Path: "/billing", Accept: "text/html"}
	c := clientauth.Client{ID: proxyClient}
	res, err := s.handler.Decide(t.Context(), o, http.Header{}, c)
	if err != nil || res.Status != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), idp.URL()+"/authorize?") ||
		!strings.HasPrefix(res.Header.Get("Set-Cookie"), "stepgate_session_pending=") {
		t.Fatalf("no credentials: %+v, %v", res, err)
	}
	mfa := idp.token(t, []string{"pwd", "mfa"}, time.Minute)
	res, err = s.handler.Decide(t.Context(), o, http.Header{"Authorization": {"Bearer " + mfa}}, c)
	if err != nil || res.Status != http.StatusOK || res.Header.Get(forwardauth.HeaderSubject) != "alice" {
		t.Fatalf("mfa token: %+v, %v", res, err)
	}
	pwd := idp.token(t, []string{"pwd"}, time.Minute)
	res, err = s.handler.Decide(t.Context(), o, http.Header{"Authorization": {"Bearer " + pwd}}, c)
	if err != nil || res.Status != http.StatusUnauthorized || !strings.Contains(res.Header.Get("WWW-Authenticate"), "insufficient_user_authentication") ||
		!strings.Contains(string(res.Body), `"decision":"step_up"`) {
		t.Fatalf("password token: %+v, %v", res, err)
	}
}

func TestForwardAuthOnlyForTheProxyClient(t *testing.T) {
	idp := newFakeIdP(t)
	s := newStack(t, stackConfig{issuer: idp.cfg})
	mfa := idp.token(t, []string{"pwd", "mfa"}, time.Minute)
	if resp := call(t, s, traefik("/", "X-Stepgate-Client-Key", otherKey, "Authorization", "Bearer "+mfa)); resp.StatusCode != http.StatusForbidden ||
		resp.Header.Get(forwardauth.HeaderDecisionID) != "" {
		t.Fatalf("another client's key: %s, want 403 and no decision", resp.Status)
	}
}
