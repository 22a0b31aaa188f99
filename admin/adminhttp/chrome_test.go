package adminhttp_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium package; .ci/run installs it.
const chromiumPath = "/usr/bin/chromium"

// browserBudget bounds the whole browser journey, Chromium's start included.
const browserBudget = 60 * time.Second

func requireChromium(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; CI must run the browser tests (apt-get install chromium)", chromiumPath)
		}
		t.Skipf("%s is missing; install Debian's chromium package to run the browser test", chromiumPath)
	}
}

// chrome drives one headless Chromium with a fresh profile and saves PNG
// screenshots into dir (STEPGATE_SCREENSHOTS keeps them).
type chrome struct {
	t    testing.TB
	ctx  context.Context
	base string
	dir  string
}

func newChrome(t testing.TB, base string) *chrome {
	t.Helper()
	requireChromium(t)
	dir := t.TempDir()
	if keep := os.Getenv("STEPGATE_SCREENSHOTS"); keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
		dir = keep
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		// A common laptop screen.
		chromedp.WindowSize(1366, 768),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, browserBudget)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return &chrome{t: t, ctx: ctx, base: base, dir: dir}
}

// run performs one named step of the journey, failing with the step name.
func (c *chrome) run(step string, actions ...chromedp.Action) {
	c.t.Helper()
	if err := chromedp.Run(c.ctx, actions...); err != nil {
		_ = chromedp.Run(c.ctx, c.shot("failed-"+slug(step))) // best effort: the step already failed
		c.t.Fatalf("%s: %v (screenshots in %s)", step, err, c.dir)
	}
}

// shot saves a full-page PNG screenshot (quality 100 means PNG).
func (c *chrome) shot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(c.dir, name+".png"), buf, 0o644)
	})
}

// view saves a PNG of what is on screen, for pages longer than the screen.
func (c *chrome) view(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := chromedp.CaptureScreenshot(&buf).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(c.dir, name+".png"), buf, 0o644)
	})
}

func (c *chrome) open(path string) chromedp.Action { return chromedp.Navigate(c.base + path) }

// text reads the text of the first element matching sel.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	var s string
	c.run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return s
}

// location returns the current URL's path and query.
func (c *chrome) location() string {
	c.t.Helper()
	var s string
	c.run("read location", chromedp.Evaluate(`location.pathname + location.search`, &s))
	return s
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(slugRE.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// startAdmin serves the env's admin UI on a real listener for the browser.
func startAdmin(t testing.TB, e *env) string {
	t.Helper()
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	return srv.URL
}
