//go:build unix

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium.
const chromiumPath = "/usr/bin/chromium"

// browserBudget bounds the whole browser journey.
const browserBudget = 90 * time.Second

// requireChromium skips without Chromium, except in CI, where it fails.
func requireChromium(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; CI must run the browser test (apt-get install chromium)", chromiumPath)
		}
		t.Skipf("%s is missing; install Debian's chromium package to run the browser test", chromiumPath)
	}
}

// chrome drives one headless Chromium with a fresh profile and saves PNG
// screenshots into a temporary directory (STEPGATE_SCREENSHOTS keeps them).
type chrome struct {
	t    testing.TB
	ctx  context.Context
	base string
	dir  string
}

func newChrome(t testing.TB, base string) *chrome {
	t.Helper()
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
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, browserBudget)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return &chrome{t: t, ctx: ctx, base: base, dir: dir}
}

// run performs one named step, failing with the step name and a screenshot.
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
		return os.WriteFile(filepath.Join(c.dir, "billing-"+name+".png"), buf, 0o644)
	})
}

func (c *chrome) open(path string) chromedp.Action { return chromedp.Navigate(c.base + path) }

// location returns the page's URL.
func (c *chrome) location() string {
	c.t.Helper()
	var u string
	c.run("read the location", chromedp.Location(&u))
	return u
}

// text returns the trimmed text of the element matching a CSS selector.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	var s string
	c.run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// providerLogin fills the provider's login form (an empty otp: password
// only) and submits it.
func providerLogin(username, password, otp string) chromedp.Tasks {
	q := chromedp.ByQuery
	t := chromedp.Tasks{
		chromedp.WaitVisible(`input[name="username"]`, q),
		chromedp.SendKeys(`input[name="username"]`, username, q),
		chromedp.SendKeys(`input[name="password"]`, password, q),
	}
	if otp != "" {
		t = append(t, chromedp.SendKeys(`input[name="otp"]`, otp, q))
	}
	return append(t, chromedp.Click(`button[type="submit"]`, q))
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}
