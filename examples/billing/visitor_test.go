//go:build unix

package main

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// visitor is a cookie-jar browser without JavaScript: it follows redirects
// across the app and the provider and remembers the hops of the last one.
type visitor struct {
	t    testing.TB
	c    *http.Client
	base string
	hops []*url.URL
}

// page is where a visit ended.
type page struct {
	url    *url.URL
	status int
	body   string
	// hops are the redirects followed on the way.
	hops []*url.URL
}

func newVisitor(t testing.TB, base string) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	v := &visitor{t: t, base: base}
	v.c = &http.Client{Jar: jar, Timeout: 15 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 20 {
			return errors.New("too many redirects")
		}
		v.hops = append(v.hops, req.URL)
		return nil
	}}
	return v
}

func (v *visitor) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return v.base + path
}

func (v *visitor) do(req *http.Request) page {
	v.t.Helper()
	v.hops = nil
	resp, err := v.c.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatalf("%s %s: read: %v", req.Method, req.URL, err)
	}
	return page{url: resp.Request.URL, status: resp.StatusCode, body: string(b), hops: v.hops}
}

func (v *visitor) get(path string) page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, v.abs(path), nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

func (v *visitor) post(path string, form url.Values) page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodPost, v.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

var loginAction = regexp.MustCompile(`<form method="post" action="(/interaction/[^"]+/login)"`)

// login fills the provider's login form p shows (an empty otp: password
// only) and follows the redirects back to the app.
func (v *visitor) login(p page, username, password, otp string) page {
	v.t.Helper()
	m := loginAction.FindStringSubmatch(p.body)
	if m == nil {
		v.t.Fatalf("expected the provider's login form at %s, got HTTP %d: %.400s", p.url, p.status, p.body)
	}
	target, err := p.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		v.t.Fatal(err)
	}
	form := url.Values{"username": {username}, "password": {password}}
	if otp != "" {
		form.Set("otp", otp)
	}
	return v.post(target.String(), form)
}

// noFollow requests path once with cookie (if not nil) and returns the
// status and Location, without following redirects.
func noFollow(t testing.TB, rawURL string, cookie *http.Cookie) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// atProviderLogin reports whether p is the provider's (issuer's) login form.
func (p page) atProviderLogin(issuer string) bool {
	return strings.HasPrefix(p.url.String(), issuer) && loginAction.MatchString(p.body)
}

// hopTo returns the first hop whose URL starts with prefix.
func (p page) hopTo(prefix string) *url.URL {
	for _, h := range p.hops {
		if strings.HasPrefix(h.String(), prefix) {
			return h
		}
	}
	return nil
}
