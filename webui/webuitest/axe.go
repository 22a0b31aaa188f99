package webuitest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// AxeTags are the rule sets CheckA11y runs: WCAG 2.0 and 2.1, levels A
// and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// axeScript is axe-core's browser bundle, installed from the committed
// lock file in axe/ (npm ci, which .ci/prepare runs). It is read from
// disk and injected into the page under test only: stepgate never serves
// it.
var axeScript = sync.OnceValues(func() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the webuitest package")
	}
	path := filepath.Join(filepath.Dir(file), "axe", "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("axe-core is not installed (%w); run .ci/prepare, or npm ci in webui/webuitest/axe", err)
	}
	return string(b), nil
})

// AxeAvailable reports whether axe-core is installed, for journeys that
// check pages when they can; TestBrowserAccessibility (RequireAxe) is the
// check that insists.
func AxeAvailable() bool {
	_, err := axeScript()
	return err == nil
}

// RequireAxe skips the test without axe-core installed, or fails it in CI.
func RequireAxe(t interface {
	Helper()
	Skipf(string, ...any)
	Fatalf(string, ...any)
}) {
	t.Helper()
	if _, err := axeScript(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; CI must run the accessibility checks", err)
		}
		t.Skipf("%v", err)
	}
}

// AxeViolation is one rule the page breaks, with the elements that break it.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target         []any  `json:"target"`
		FailureSummary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s, %d element(s)", v.ID, v.Impact, v.Help, len(v.Nodes))
	for i, n := range v.Nodes {
		if i == 3 {
			fmt.Fprintf(&b, "\n    … and %d more", len(v.Nodes)-i)
			break
		}
		fmt.Fprintf(&b, "\n    at %v: %s", n.Target, strings.ReplaceAll(n.FailureSummary, "\n", " "))
	}
	return b.String()
}

// Axe runs axe-core on the current page against AxeTags and returns its
// violations (none on an accessible page).
func (c *Chrome) Axe() []AxeViolation {
	c.t.Helper()
	script, err := axeScript()
	if err != nil {
		c.t.Fatal(err)
	}
	tags, _ := json.Marshal(AxeTags)
	var raw string
	c.Run("run axe-core",
		chromedp.ActionFunc(func(ctx context.Context) error {
			// DevTools evaluation is not bound by the page's CSP, so the
			// page needs no exception for the test.
			var ignored any
			return chromedp.Evaluate(`if (!window.axe) { `+script+` }; true`, &ignored).Do(ctx)
		}),
		chromedp.Evaluate(`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}, resultTypes: ["violations"]})
			.then(r => JSON.stringify(r.violations))`, &raw,
			func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams { return p.WithAwaitPromise(true) }))
	var out []AxeViolation
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		c.t.Fatalf("axe-core result: %v", err)
	}
	return out
}

// CheckA11y runs Axe on the current page and fails the test for every
// violation, naming the page.
func (c *Chrome) CheckA11y(page string) {
	c.t.Helper()
	for _, v := range c.Axe() {
		c.t.Errorf("%s: accessibility violation %s", page, v)
	}
}
