// Package webuitest drives stepgate's web pages (the admin UI, the billing
// demo) in Debian's headless Chromium for browser tests. It is test support
// only: nothing in the product imports it.
//
// A test calls NewChrome, then runs named steps; a failing step saves a
// screenshot and fails the test with the step's name and where the
// screenshots are. Chromium missing is a skip, except in CI (CI=true),
// where it is a failure, because CI must run the browser tests.
package webuitest

import (
	"cmp"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's chromium package; .ci/prepare installs it.
const ChromiumPath = "/usr/bin/chromium"

// RequireChromium skips the test without Chromium, or fails it in CI.
func RequireChromium(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; CI must run the browser tests (apt-get install chromium)", ChromiumPath)
		}
		t.Skipf("%s is missing; install Debian's chromium package to run the browser tests", ChromiumPath)
	}
}

// Options tune NewChrome; zero values take the defaults.
type Options struct {
	// Budget bounds the whole journey, Chromium's start included; default 60s.
	Budget time.Duration
	// Width and Height of the window; default 1366×768, a common laptop.
	Width, Height int
	// ShotPrefix is put before every screenshot's name.
	ShotPrefix string
}

// Chrome is one headless Chromium with a fresh profile. Screenshots go to
// a temporary directory, or to STEPGATE_SCREENSHOTS when set.
type Chrome struct {
	t      testing.TB
	ctx    context.Context
	base   string
	dir    string
	prefix string
}

// NewChrome starts Chromium for pages under base (e.g. http://127.0.0.1:PORT)
// with the flags this machine needs: no sandbox (root), no GPU, and no
// background networking, which the closed network would refuse.
func NewChrome(t testing.TB, base string, o Options) *Chrome {
	t.Helper()
	RequireChromium(t)
	dir := t.TempDir()
	if keep := os.Getenv("STEPGATE_SCREENSHOTS"); keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
		dir = keep
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(cmp.Or(o.Width, 1366), cmp.Or(o.Height, 768)),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(bctx, cmp.Or(o.Budget, 60*time.Second))
	t.Cleanup(func() {
		// Close the browser and wait for it, so that it no longer writes
		// into its profile directory when the test removes it.
		_ = chromedp.Cancel(bctx)
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return &Chrome{t: t, ctx: ctx, base: base, dir: dir, prefix: o.ShotPrefix}
}

// Dir is where the screenshots are.
func (c *Chrome) Dir() string { return c.dir }

// Run performs one named step, failing with its name and a screenshot.
func (c *Chrome) Run(step string, actions ...chromedp.Action) {
	c.t.Helper()
	if err := chromedp.Run(c.ctx, actions...); err != nil {
		_ = chromedp.Run(c.ctx, c.Shot("failed-"+Slug(step))) // best effort: the step already failed
		c.t.Fatalf("%s: %v (screenshots in %s)", step, err, c.dir)
	}
}

// Shot saves a full-page PNG screenshot (quality 100 means PNG).
func (c *Chrome) Shot(name string) chromedp.Action {
	return c.save(name, func(buf *[]byte) chromedp.Action { return chromedp.FullScreenshot(buf, 100) })
}

// View saves a PNG of what is on screen, for pages longer than the window.
func (c *Chrome) View(name string) chromedp.Action {
	return c.save(name, func(buf *[]byte) chromedp.Action { return chromedp.CaptureScreenshot(buf) })
}

func (c *Chrome) save(name string, capture func(*[]byte) chromedp.Action) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := capture(&buf).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(c.dir, c.prefix+name+".png"), buf, 0o644)
	})
}

// Open navigates to path under the base URL.
func (c *Chrome) Open(path string) chromedp.Action { return chromedp.Navigate(c.base + path) }

// Text returns the trimmed text of the first visible element matching sel.
func (c *Chrome) Text(sel string) string {
	c.t.Helper()
	var s string
	c.Run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

// Path returns the current page's path and query.
func (c *Chrome) Path() string {
	c.t.Helper()
	var s string
	c.Run("read the location", chromedp.Evaluate(`location.pathname + location.search`, &s))
	return s
}

// URL returns the current page's full URL.
func (c *Chrome) URL() string {
	c.t.Helper()
	var u string
	c.Run("read the location", chromedp.Location(&u))
	return u
}

// Slug turns a step name into a file name.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
