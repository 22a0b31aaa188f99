//go:build unix

package pdptest

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"
)

// ErrLoginRejected reports that the provider showed its login form again
// after a submission: wrong credentials, or a login that does not meet an
// essential acr.
var ErrLoginRejected = errors.New("provider rejected the login")

// ErrLoginPrompted reports that the provider asked the user to log in where
// a test expected it to answer from its existing session.
var ErrLoginPrompted = errors.New("provider prompted for a login")

// Browser is a cookie-jar HTTP client that drives the provider's login pages
// like a user's browser. Its provider session survives between logins, so a
// later authorization request without max_age reuses the earlier login.
type Browser struct {
	issuer *url.URL
	client *http.Client
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	formError  = regexp.MustCompile(`role="alert">([^<]*)<`)
)

// NewBrowser returns a browser with an empty cookie jar (no provider session).
func (p *OIDCProvider) NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil) // New never fails without options
	issuer, _ := url.Parse(p.issuer)
	b := &Browser{issuer: issuer}
	b.client = &http.Client{
		Jar:     jar,
		Timeout: p.http.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != b.issuer.Host {
				return http.ErrUseLastResponse // the app's redirect_uri: hand it to the test
			}
			if len(via) >= 20 {
				return errors.New("too many redirects at the provider")
			}
			return nil
		},
	}
	return b
}

// Login drives authorizeURL with the provider's default browser (see
// Browser.Login) and fails the test on error.
func (p *OIDCProvider) Login(t testing.TB, authorizeURL, username, password, otp string) (redirectedTo *url.URL) {
	t.Helper()
	return p.browser.Login(t, authorizeURL, username, password, otp)
}

// Login follows authorizeURL, submits the login form if the provider shows
// one (an empty otp means password only), lets consent be granted, and
// returns the redirect to the app's redirect_uri without following it. The
// caller reads code/state (or error) from its query. It fails the test on error.
func (b *Browser) Login(t testing.TB, authorizeURL, username, password, otp string) (redirectedTo *url.URL) {
	t.Helper()
	u, err := b.TryLogin(authorizeURL, username, password, otp)
	if err != nil {
		t.Fatalf("provider login: %v", err)
	}
	return u
}

// Silently follows authorizeURL expecting the provider to answer from its
// session without showing a login form (single sign-on), and returns the
// redirect to the app's redirect_uri. ErrLoginPrompted (wrapped) means
// the provider asked for a login.
func (b *Browser) Silently(authorizeURL string) (*url.URL, error) {
	resp, err := b.client.Get(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("provider: read %s: %w", resp.Request.URL, err)
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		return resp.Request.URL.Parse(loc)
	}
	if formAction.Match(page) {
		return nil, fmt.Errorf("%w at %s", ErrLoginPrompted, resp.Request.URL)
	}
	return nil, fmt.Errorf("provider: %s answered %s: %.300s", resp.Request.URL, resp.Status, page)
}

// TryLogin is Login returning an error (ErrLoginRejected when the provider
// insists on its login form) instead of failing the test.
func (b *Browser) TryLogin(authorizeURL, username, password, otp string) (*url.URL, error) {
	resp, err := b.client.Get(authorizeURL)
	for submitted := false; ; submitted = true {
		if err != nil {
			return nil, fmt.Errorf("provider login: %w", err)
		}
		page, readErr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if readErr != nil {
			return nil, fmt.Errorf("provider login: read %s: %w", resp.Request.URL, readErr)
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			return resp.Request.URL.Parse(loc)
		}
		action := formAction.FindSubmatch(page)
		if action == nil {
			return nil, fmt.Errorf("provider login: %s answered %s: %.300s", resp.Request.URL, resp.Status, page)
		}
		if submitted {
			msg := "asked to log in again (requested acr not met?)"
			if m := formError.FindSubmatch(page); m != nil {
				msg = html.UnescapeString(string(m[1]))
			}
			return nil, fmt.Errorf("%w: %s", ErrLoginRejected, msg)
		}
		target, err := resp.Request.URL.Parse(html.UnescapeString(string(action[1])))
		if err != nil {
			return nil, fmt.Errorf("provider login: form action: %w", err)
		}
		form := url.Values{"username": {username}, "password": {password}}
		if otp != "" {
			form.Set("otp", otp)
		}
		resp, err = b.client.PostForm(target.String(), form)
	}
}
