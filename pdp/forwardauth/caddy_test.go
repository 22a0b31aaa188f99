//go:build unix

package forwardauth_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
)

// requireCaddy returns Debian's caddy binary, or skips the test (fails it
// in CI, which must run it: .ci/prepare installs caddy).
func requireCaddy(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("caddy")
	if err == nil {
		return bin
	}
	if _, serr := os.Stat("/usr/bin/caddy"); serr == nil {
		return "/usr/bin/caddy"
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("caddy is not on PATH; CI must run the Caddy forward-auth test (.ci/prepare installs Debian's caddy)")
	}
	t.Skipf("caddy is not on PATH; install Debian's caddy (apt-get install caddy, or run .ci/prepare as root) to run the Caddy forward-auth test")
	return ""
}

// caddyFromExample renders examples/proxy/Caddyfile for this test: its
// site address and upstreams replaced, behind global options that keep
// Caddy on loopback, without its admin API, automatic HTTPS, or any file
// outside dir. The proxy's key comes from the environment, as in the
// example.
func caddyFromExample(t testing.TB, dir, listen, stepgate, upstream string) string {
	t.Helper()
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "proxy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(example)
	if !strings.Contains(conf, "header_up X-Stepgate-Client-Key {env.STEPGATE_CADDY_CLIENT_KEY}") {
		t.Fatal("examples/proxy/Caddyfile no longer sends the proxy's key from STEPGATE_CADDY_CLIENT_KEY")
	}
	for old, repl := range map[string]string{
		"\napp.example.com {":    "\nhttp://" + listen + " {",
		"reverse_proxy app:8080": "reverse_proxy " + upstream,
		"stepgate:8710":          stepgate,
	} {
		if !strings.Contains(conf, old) {
			t.Fatalf("examples/proxy/Caddyfile no longer contains %q", old)
		}
		conf = strings.ReplaceAll(conf, old, repl)
	}
	return fmt.Sprintf(`{
	admin off
	auto_https off
	default_bind 127.0.0.1
	storage file_system {
		root %s
	}
}
%s`, filepath.Join(dir, "data"), conf)
}

// startCaddy runs caddy with the example until the test ends, and waits
// until it accepts connections on listen.
func startCaddy(t testing.TB, listen, stepgate, app, key string) {
	t.Helper()
	bin := requireCaddy(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(caddyFromExample(t, dir, listen, stepgate, app)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir, "STEPGATE_CADDY_CLIENT_KEY="+key)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start caddy: %v", err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // this caddy only: its pid
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("caddy output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("caddy exited: %v\n%s", waitErr, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("caddy does not accept connections on %s\n%s", listen, out.String())
		}
	}
}

var (
	pageOf    = regexp.MustCompile(`<h1 id="page">([^<]*)</h1>`)
	subjectOf = regexp.MustCompile(`<p id="subject">([^<]*)</p>`)
	decidedBy = regexp.MustCompile(`<p id="decision">([^<]*)</p>`)
)

// appBrowser is a browser of the proxied app without JavaScript: a cookie
// jar for the app's origin, redirects handed to the test.
type appBrowser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newAppBrowser(t *testing.T, base string) *appBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &appBrowser{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// open navigates to target (a path, or an absolute URL on the app) and
// returns the answer and its body.
func (b *appBrowser) open(target string, header http.Header) (*http.Response, string) {
	b.t.Helper()
	u, err := url.Parse(b.base)
	if err != nil {
		b.t.Fatal(err)
	}
	if u, err = u.Parse(target); err != nil {
		b.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, sb.String()
}

// cookie is the value of the app origin's cookie name, "" if none.
func (b *appBrowser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// signIn follows stepgate's redirect to the provider, logs in there, and
// brings the provider's answer back through the proxy to stepgate's
// callback, which must send the browser on to want.
func (b *appBrowser) signIn(p *proxied, idp *pdptest.Browser, resp *http.Response, otp, want string) {
	b.t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, p.idp.AuthorizationEndpoint()+"?") {
		b.t.Fatalf("want a 302 to the provider's authorize endpoint; got %s to %q", resp.Status, loc)
	}
	authz, _ := url.Parse(loc)
	if got := authz.Query().Get("redirect_uri"); got != p.base+"/_stepgate/callback" {
		b.t.Fatalf("the provider is asked to come back to %q, want this host's callback", got)
	}
	back := idp.Login(b.t, loc, pdptest.TestUsername, pdptest.TestPassword, otp)
	if !strings.HasPrefix(back.String(), p.base+"/_stepgate/callback?") {
		b.t.Fatalf("the provider came back to %s", back)
	}
	cb, body := b.open(back.String(), nil)
	if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != p.base+want {
		b.t.Fatalf("callback through Caddy: %s to %q (want %s): %s", cb.Status, cb.Header.Get("Location"), p.base+want, body)
	}
}

// TestCaddyForwardAuthJourney runs examples/proxy/Caddyfile with Debian's
// caddy in front of the app, stepgate and the real test provider: sign-in,
// the app seeing stepgate's subject and never a client's, a browser's
// step-up to /billing redirected to the provider and brought back, an API
// call with a password-only token refused with RFC 9470's challenge, a
// forged cookie refused, and sign-out.
func TestCaddyForwardAuthJourney(t *testing.T) {
	requireCaddy(t)
	p := startBehind(t, func(listen, stepgate, app string) { startCaddy(t, listen, stepgate, app, proxyKey) })
	browser := newAppBrowser(t, p.base)
	idp := p.idp.NewBrowser()

	// A protected page without a session: to the provider, back, the page.
	resp, body := browser.open("/welcome?tab=1", nil)
	if browser.cookie("stepgate_session_pending") == "" {
		t.Fatalf("the redirect to sign in set no pending cookie: %s %v", resp.Status, resp.Header)
	}
	browser.signIn(p, idp, resp, "", "/welcome?tab=1")
	resp, body = browser.open("/welcome?tab=1", http.Header{"X-Stepgate-Subject": {"mallory"}, "X-Stepgate-Decision-Id": {"forged"}})
	if resp.StatusCode != http.StatusOK || pageOf.FindStringSubmatch(body)[1] != "/welcome" {
		t.Fatalf("after sign-in: %s %s", resp.Status, body)
	}
	if got := subjectOf.FindStringSubmatch(body)[1]; got != pdptest.TestUsername {
		t.Fatalf("the app saw subject %q, want stepgate's %q (never the client's own header)", got, pdptest.TestUsername)
	}
	id := decidedBy.FindStringSubmatch(body)[1]
	if ev, ok := p.sg.audits.decision(id); !ok || ev.ClientID != proxyClient || ev.Action != "app.view" || ev.Subject != pdptest.TestUsername {
		t.Fatalf("decision %q audited as %+v (found %v); want client %s, action app.view, subject alice", id, ev, ok, proxyClient)
	}
	session := browser.cookie("stepgate_session")

	// /billing needs MFA: the browser is sent to step up, and comes back
	// to /billing with the one-time code.
	resp, _ = browser.open("/billing", nil)
	authz, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || authz == nil || authz.Query().Get("claims") == "" && authz.Query().Get("acr_values") == "" {
		t.Fatalf("a password session on /billing: %s to %q; want a 302 asking the provider for MFA", resp.Status, resp.Header.Get("Location"))
	}
	browser.signIn(p, idp, resp, pdptest.TestOTP, "/billing")
	if resp, body = browser.open("/billing", nil); resp.StatusCode != http.StatusOK || pageOf.FindStringSubmatch(body)[1] != "/billing" {
		t.Fatalf("after step-up: %s %s", resp.Status, body)
	}
	stepped := browser.cookie("stepgate_session")
	if stepped == "" || stepped == session {
		t.Fatal("the step-up did not renew the session cookie")
	}

	// A forged cookie (one character changed) opens nothing: the browser
	// is sent to sign in.
	forged := []byte(stepped)
	forged[len(forged)-5] ^= 1
	plain := newAppBrowser(t, p.base)
	resp, _ = plain.open("/billing", http.Header{"Cookie": {"stepgate_session=" + string(forged)}})
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), p.idp.AuthorizationEndpoint()+"?") {
		t.Fatalf("forged cookie on /billing: %s to %q; want a 302 to sign in", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _ = plain.open("/billing", http.Header{"Cookie": {"stepgate_session=" + stepped}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("the genuine cookie in another client: %s, want 200", resp.Status)
	}

	// An API call with a password-only token: 401 with RFC 9470's
	// challenge on /billing, and the page that needs no MFA is served.
	tok := p.passwordToken(t)
	api := http.Header{"Authorization": {"Bearer " + tok}, "Accept": {"application/json"}}
	resp, body = p.get(t, "/billing", api)
	if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || len(ch) != 1 ||
		!strings.Contains(ch[0], `error="insufficient_user_authentication"`) {
		t.Fatalf("API call with a password-only token: %s, WWW-Authenticate %q, body %s", resp.Status, ch, body)
	}
	resp, body = p.get(t, "/welcome", api)
	if m := subjectOf.FindStringSubmatch(body); resp.StatusCode != http.StatusOK || m == nil || m[1] != pdptest.TestUsername {
		t.Fatalf("API call to /welcome: %s %s; want 200 with subject %s", resp.Status, body, pdptest.TestUsername)
	}

	// Sign-out through Caddy: an off-site return URL is refused; then back
	// to the page, asked to sign in again; the old cookie no longer counts.
	if resp, _ = browser.open("/_stepgate/signout?rd="+url.QueryEscape("//evil.example/x"), nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("sign-out to an off-site page: %s, want 400", resp.Status)
	}
	if resp, body = browser.open("/_stepgate/signout?rd=/welcome", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != p.base+"/welcome" {
		t.Fatalf("sign-out: %s to %q: %s", resp.Status, resp.Header.Get("Location"), body)
	}
	if resp, _ = browser.open("/welcome", nil); resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), p.idp.AuthorizationEndpoint()+"?") {
		t.Fatalf("after sign-out /welcome: %s to %q; want to sign in again", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _ = plain.open("/billing", http.Header{"Cookie": {"stepgate_session=" + stepped}}); resp.StatusCode == http.StatusOK {
		t.Fatal("the signed-out session's cookie still opens /billing")
	}
}
