//go:build unix

package forwardauth_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/webui/webuitest"
)

const (
	webAppID    = "proxied-app" // the authorize client stepgate signs browsers in with
	apiAppID    = "api-caller"  // a client that gets its own tokens, for API calls
	apiRedirect = "http://127.0.0.1:9/callback"
	resourceAud = "https://api.stepgate.test"
)

// proxied is the whole reverse-proxy setup: the real test provider,
// stepgate with forward auth, the app, and NGINX (examples/proxy/nginx.conf)
// or Caddy (examples/proxy/Caddyfile) in front.
type proxied struct {
	idp   *pdptest.OIDCProvider
	sg    *stack
	base  string // the proxy, as the browser sees it
	oauth oauth2.Config
}

// startProxied starts the setup with NGINX in front.
func startProxied(t *testing.T) *proxied {
	t.Helper()
	requireNGINX(t)
	return startBehind(t, func(listen, stepgate, app string) { startNGINX(t, listen, stepgate, app, proxyKey) })
}

// startBehind starts the provider, stepgate and the app, and the proxy
// with start on a free loopback address in front of them.
func startBehind(t *testing.T, start func(listen, stepgate, app string)) *proxied {
	t.Helper()
	listen := freePort(t)
	base := "http://" + listen
	idp := pdptest.StartOIDCProvider(t, pdptest.ProviderConfig{
		Clients:  []pdptest.ProviderClient{pdptest.AppClient(webAppID, base+"/_stepgate/callback"), pdptest.AppClient(apiAppID, apiRedirect)},
		Resource: resourceAud,
	})
	// The keycloak dialect asks for MFA with an essential acr claim, which
	// the provider answers with a new login rather than its session's.
	ic := trust.IssuerConfig{Issuer: idp.Issuer(), Audiences: []string{resourceAud, webAppID},
		Dialect: trust.DialectKeycloak, MFAACRValues: []string{trust.PAPEMultiFactor},
		Authorize: &trust.AuthorizeConfig{ClientID: webAppID, RedirectURI: "https://unused.example/callback", Scopes: []string{"openid"}}}
	sg := newStack(t, stackConfig{issuer: ic})
	app := upstream(t)
	start(listen, strings.TrimPrefix(sg.srv.URL, "http://"), strings.TrimPrefix(app.URL, "http://"))
	ep := oauth2.Endpoint{AuthURL: idp.AuthorizationEndpoint(), TokenURL: idp.TokenEndpoint(), AuthStyle: oauth2.AuthStyleInParams}
	return &proxied{idp: idp, sg: sg, base: base,
		oauth: oauth2.Config{ClientID: apiAppID, RedirectURL: apiRedirect, Scopes: []string{"openid"}, Endpoint: ep}}
}

// passwordToken is an API client's access token from a password-only login.
func (p *proxied) passwordToken(t testing.TB) string {
	t.Helper()
	verifier, state := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	u := p.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", oauth2.GenerateVerifier()))
	back := p.idp.NewBrowser().Login(t, u, pdptest.TestUsername, pdptest.TestPassword, "")
	if back.Query().Get("state") != state {
		t.Fatalf("provider came back with %s", back.RawQuery)
	}
	tok, err := p.oauth.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return tok.AccessToken
}

// get requests path through the proxy without following redirects.
func (p *proxied) get(t testing.TB, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// signInForm fills the provider's login form in Chromium.
func signInForm(otp string) chromedp.Tasks {
	tasks := chromedp.Tasks{
		chromedp.WaitVisible(`input[name=username]`, chromedp.ByQuery),
		chromedp.SetValue(`input[name=username]`, pdptest.TestUsername, chromedp.ByQuery),
		chromedp.SetValue(`input[name=password]`, pdptest.TestPassword, chromedp.ByQuery),
	}
	if otp != "" {
		tasks = append(tasks, chromedp.SetValue(`input[name=otp]`, otp, chromedp.ByQuery))
	}
	return append(tasks, chromedp.Submit(`input[name=password]`, chromedp.ByQuery))
}

// TestNGINXForwardAuthJourney runs the README's "Behind a reverse proxy"
// flow with Debian's nginx, the real test provider and Chromium.
func TestNGINXForwardAuthJourney(t *testing.T) {
	p := startProxied(t)
	c := webuitest.NewChrome(t, p.base, webuitest.Options{Budget: 3 * time.Minute, ShotPrefix: "forward-auth-"})

	// A protected page: the provider's login, then back on the page.
	c.Run("open a protected page and sign in with a password",
		c.Open("/welcome?tab=1"),
		chromedp.WaitVisible(`input[name=username]`, chromedp.ByQuery),
		signInForm(""),
		chromedp.WaitVisible(`#page`, chromedp.ByQuery))
	if got := c.Path(); got != "/welcome?tab=1" {
		t.Fatalf("after sign-in the browser is at %q, want /welcome?tab=1", got)
	}
	if got := c.Text("#subject"); got != pdptest.TestUsername {
		t.Fatalf("the app saw subject %q, want %q", got, pdptest.TestUsername)
	}
	decisionID := c.Text("#decision")
	ev, ok := p.sg.audits.decision(decisionID)
	if !ok || ev.ClientID != proxyClient || ev.Action != "app.view" || ev.Subject != pdptest.TestUsername {
		t.Fatalf("decision %q audited as %+v (found %v); want client %s, action app.view, subject alice", decisionID, ev, ok, proxyClient)
	}

	// /billing needs MFA: step up with the one-time code, back on /billing.
	c.Run("open /billing and step up with the one-time code",
		c.Open("/billing"),
		chromedp.WaitVisible(`input[name=otp]`, chromedp.ByQuery),
		signInForm(pdptest.TestOTP),
		chromedp.WaitVisible(`#page`, chromedp.ByQuery))
	if got, page := c.Path(), c.Text("#page"); got != "/billing" || page != "/billing" {
		t.Fatalf("after step-up the browser is at %q showing %q, want /billing from the app", got, page)
	}
	if !p.sg.audits.hasFlow("stepup", "verified", 2) {
		t.Fatalf("the sign-in and the step-up were not both audited as verified: %+v", p.sg.audits.flows)
	}
	var cookies []*network.Cookie
	c.Run("read stepgate's session cookie", chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cookies, err = network.GetCookies().WithURLs([]string{p.base + "/"}).Do(ctx)
		return err
	}))
	var session *network.Cookie
	for _, ck := range cookies {
		if ck.Name == "stepgate_session" {
			session = ck
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax || session.Domain != "127.0.0.1" {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Lax, host-only", session)
	}
	html := http.Header{"Accept": {"text/html"}}
	if resp, _ := p.get(t, "/billing", http.Header{"Accept": {"text/html"}, "Cookie": {"stepgate_session=" + session.Value}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("the stepped-up cookie on /billing: %s, want 200", resp.Status)
	}

	// A forged cookie (one character changed) and a foreign one (this
	// cookie on another host) are refused: the browser is sent to sign in.
	forged := []byte(session.Value)
	forged[len(forged)-5] ^= 1
	for name, h := range map[string]http.Header{
		"forged":  {"Accept": {"text/html"}, "Cookie": {"stepgate_session=" + string(forged)}},
		"foreign": {"Accept": {"text/html"}, "Cookie": {"stepgate_session=" + session.Value}, "Host": {strings.Replace(strings.TrimPrefix(p.base, "http://"), "127.0.0.1", "localhost", 1)}},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.base+"/billing", nil)
		req.Header = h
		if host := h.Get("Host"); host != "" {
			req.Host = host
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), p.idp.AuthorizationEndpoint()) {
			t.Errorf("%s cookie: %s to %q; want 302 to the provider's sign-in", name, resp.Status, resp.Header.Get("Location"))
		}
	}

	// An API call with a password-only token: 401 with RFC 9470's challenge.
	tok := p.passwordToken(t)
	resp, body := p.get(t, "/billing", http.Header{"Authorization": {"Bearer " + tok}, "Accept": {"application/json"}})
	if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || len(ch) != 1 ||
		!strings.Contains(ch[0], `error="insufficient_user_authentication"`) {
		t.Fatalf("API call with a password-only token: %s, WWW-Authenticate %q, body %s", resp.Status, resp.Header.Values("WWW-Authenticate"), body)
	}
	if resp, _ := p.get(t, "/welcome", http.Header{"Authorization": {"Bearer " + tok}, "Accept": {"application/json"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("API call to /welcome with the token: %s, want 200", resp.Status)
	}

	// An off-site return URL is refused.
	for _, rd := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example"} {
		if resp, _ := p.get(t, "/_stepgate/signout?rd="+url.QueryEscape(rd), html); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("sign-out with rd=%q: %s, want 400", rd, resp.Status)
		}
	}

	// Sign-out: the next visit asks again, with a fresh login.
	c.Run("sign out, and the next visit asks for a login again",
		c.Open("/_stepgate/signout?rd=/welcome"),
		chromedp.WaitVisible(`input[name=username]`, chromedp.ByQuery))
	if u := c.URL(); !strings.HasPrefix(u, p.idp.Issuer()) {
		t.Fatalf("after sign-out the browser is at %s, want the provider's login", u)
	}
	// The old cookie, copied before sign-out, no longer counts.
	if resp, _ := p.get(t, "/billing", http.Header{"Accept": {"text/html"}, "Cookie": {"stepgate_session=" + session.Value}}); resp.StatusCode == http.StatusOK {
		t.Fatalf("the signed-out session's cookie still opens /billing")
	}
}
