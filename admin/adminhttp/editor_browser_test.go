package adminhttp_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/webui/webuitest"
)

// cspProbe records Content-Security-Policy violations in every page before
// the page's own scripts run (scripts added through the DevTools protocol
// are not subject to the page's CSP).
const cspProbe = `window.__csp = []; document.addEventListener("securitypolicyviolation",
	e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`

// consoleErrors collects what the page logs as an error, thrown
// exceptions included.
type consoleErrors struct {
	mu   sync.Mutex
	msgs []string
}

func (c *consoleErrors) add(s string) { c.mu.Lock(); c.msgs = append(c.msgs, s); c.mu.Unlock() }

func (c *consoleErrors) listen(ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value))
				}
				c.add("console.error: " + strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			c.add("exception: " + ev.ExceptionDetails.Error())
		case *log.EventEntryAdded:
			// A compile error answers 422 on purpose; Chromium logs that.
			expected := ev.Entry.Source == log.SourceNetwork && strings.Contains(ev.Entry.Text, "status of 422") && strings.HasSuffix(ev.Entry.URL, "/try")
			if ev.Entry.Level == log.LevelError && !expected {
				c.add(fmt.Sprintf("%s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
}

func (c *consoleErrors) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// TestBrowserPolicyEditor: the editor loads under the admin UI's CSP
// without console errors, numbers lines and highlights Rego, Tab inserts a
// tab and Escape then Tab leaves it, an edit typed into it is what the form
// posts, and a compile error's link selects its line. Screenshots at 1280
// and 390 px wide are saved (STEPGATE_SCREENSHOTS keeps them).
func TestBrowserPolicyEditor(t *testing.T) {
	webuitest.RequireChromium(t)
	e := newEnv(t)
	c := webuitest.NewChrome(t, startAdmin(t, e), webuitest.Options{Width: 1280, Height: 900, ShotPrefix: "editor-", Budget: 150 * time.Second})
	q := chromedp.ByQuery
	var errs consoleErrors
	c.Run("watch the console and CSP violations",
		chromedp.ActionFunc(func(ctx context.Context) error {
			errs.listen(ctx)
			if err := log.Enable().Do(ctx); err != nil {
				return err
			}
			_, err := page.AddScriptToEvaluateOnNewDocument(cspProbe).Do(ctx)
			return err
		}))
	c.Run("sign in",
		c.Open("/"), chromedp.WaitVisible(`#password`, q),
		chromedp.SendKeys(`#password`, testPassword, q), chromedp.Submit(`#password`, q),
		chromedp.WaitVisible(`//h1[text()="Dashboard"]`))

	var ta string
	var editors, textareas int
	var hidden, highlighted bool
	c.Run("open the editor",
		c.Open("/policies/1/edit"), chromedp.WaitVisible(`.cm-editor .cm-content`, q),
		chromedp.Evaluate(`[...document.querySelectorAll('input[name^="fn_"]')].find(i => i.value === "stepgate/policy.rego").name.slice(3)`, &ta))
	ed := `.cm-editor[data-for="f_` + ta + `"]`
	c.Run("the textareas became editors",
		chromedp.WaitVisible(ed+` .cm-lineNumbers`, q),
		chromedp.Evaluate(`document.querySelectorAll(".cm-editor").length`, &editors),
		chromedp.Evaluate(`document.querySelectorAll("textarea[data-editor]").length`, &textareas),
		chromedp.Evaluate(`getComputedStyle(document.getElementById("f_`+ta+`")).display === "none"`, &hidden),
		// Rego keywords get a highlight class of their own.
		chromedp.ScrollIntoView(ed, q),
		chromedp.Evaluate(`[...document.querySelectorAll('`+ed+` .cm-line span[class]')].some(s => s.textContent === "package")`, &highlighted),
		c.View("01-edit-1280"))
	if editors != textareas || editors < 2 || !hidden || !highlighted {
		t.Fatalf("%d editors for %d textareas (textarea hidden: %v), keyword highlighted: %v", editors, textareas, hidden, highlighted)
	}

	var before, first string
	var inEditor bool
	c.Run("Tab inserts a tab",
		chromedp.Evaluate(`document.querySelector('`+ed+` .cm-line').textContent`, &before),
		chromedp.Click(ed+` .cm-line`, q), chromedp.KeyEvent(kb.Home), chromedp.KeyEvent(kb.Tab),
		chromedp.Evaluate(`document.querySelector('`+ed+` .cm-line').textContent`, &first),
		chromedp.Evaluate(`!!document.activeElement.closest(".cm-editor")`, &inEditor))
	if before == "" || first != "\t"+before || !inEditor {
		t.Fatalf("after Tab the first line is %q and the focus is in the editor: %v", first, inEditor)
	}
	// After Escape, CodeMirror leaves the next Tab to the browser, which
	// moves the focus on (a real keyboard's Tab does; the DevTools
	// protocol's does not move it out of a contenteditable, so the test
	// checks what the editor controls: the key is neither taken nor typed).
	var keys []string
	var after string
	c.Run("Escape then Tab is left to the browser",
		chromedp.Evaluate(`window.__keys = []; document.addEventListener("keydown", e => window.__keys.push(e.key + " prevented: " + e.defaultPrevented)); 1`, nil),
		chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Escape), chromedp.KeyEvent(kb.Tab),
		chromedp.Evaluate(`window.__keys`, &keys),
		chromedp.Evaluate(`document.querySelector('`+ed+` .cm-line').textContent`, &after))
	want := []string{"Tab prevented: true", "Escape prevented: false", "Tab prevented: false"}
	if strings.Join(keys, ",") != strings.Join(want, ",") || after != "\t\t"+before {
		t.Fatalf("keys %v (want %v), first line %q (want two tabs, the second Tab not typed)", keys, want, after)
	}

	var line, selected, source string
	var visible bool
	c.Run("type a syntax error and check the unsaved edit",
		chromedp.Click(ed+` .cm-line`, q), chromedp.KeyEvent(kb.Home), chromedp.KeyEvent(kb.Home), chromedp.KeyEvent(kb.Delete), chromedp.KeyEvent(kb.Delete), chromedp.KeyEvent(kb.End),
		chromedp.KeyEvent("\n\nbroken if {\n"),
		chromedp.Click(`button[value="check"]`, q),
		chromedp.WaitVisible(`#try-result`, q), chromedp.WaitVisible(`.errorbox a[data-line]`, q),
		chromedp.WaitVisible(ed+` .cm-error-line`, q), c.View("02-compile-error-1280"),
		chromedp.AttributeValue(`.errorbox a[data-line]`, "data-line", &line, nil, q),
		chromedp.Value(`#f_`+ta, &source, q))
	if !strings.HasPrefix(source, before+"\n") || !strings.Contains(source, "\nbroken if {\n") {
		t.Fatalf("the form did not post what was typed into the editor:\n%.200s", source)
	}
	c.Run("the compile error link selects its line",
		chromedp.Click(`.errorbox a[data-line]`, q),
		chromedp.Evaluate(`document.getSelection().toString()`, &selected),
		chromedp.Evaluate(`(() => { const r = document.querySelector('`+ed+` .cm-activeLine').getBoundingClientRect();
			return r.top >= 0 && r.bottom <= innerHeight; })()`, &visible),
		c.View("03-jumped-to-error-1280"))
	var n int
	fmt.Sscan(line, &n)
	lines := strings.Split(source, "\n")
	if n < 1 || n > len(lines) || selected != lines[n-1] || !visible {
		t.Fatalf("error at line %s: selected %q (on screen: %v), want the line %q", line, selected, visible, lines[min(max(n, 1), len(lines))-1])
	}

	// An audited decision to replay: billing.view with MFA a minute ago.
	now := e.clock.Now().Unix()
	rec := storage.AuditRecord{ChainID: "test", Kind: storage.KindDecision, DecisionID: "0192f0a0-d1-replay", Action: "billing.view",
		Subject: "carol", Outcome: "allow", Time: e.clock.Now(), PolicyRevision: 1,
		Input: []byte(`{"subject":{"type":"user","id":"carol","claims":{"sub":"carol","amr":["pwd","mfa"],"auth_time":` + itoa(int(now-60)) +
			`},"authn":{"methods":["pwd","mfa"],"mfa":true,"auth_time":` + itoa(int(now-60)) + `,"age":60}},"action":{"name":"billing.view"},` +
			`"resource":{},"context":{},"now":` + itoa(int(now)) + `,"client":{"id":"billing-svc"}}`)}
	if err := e.store.AppendAudit(context.Background(), []storage.AuditRecord{rec}); err != nil {
		t.Fatal(err)
	}
	maxAge := `//tr[.//input[@name="a_name" and @value="billing.view"]]//input[@name="a_max_age"]`
	c.Run("try a table edit before saving: tests and impact",
		c.Open("/policies/1/edit"), chromedp.WaitVisible(ed+` .cm-content`, q),
		chromedp.SetValue(maxAge, "30"),
		chromedp.Click(`button[value="check"]`, q), chromedp.WaitVisible(`#try-tests`, q), c.View("09-try-check-1280"),
		chromedp.Click(`button[value="impact"]`, q), chromedp.WaitVisible(`#try-impact`, q), c.View("10-try-impact-1280"))
	if got := c.Text(`#try-impact`); !strings.Contains(got, "1 would change") || !strings.Contains(got, "billing.view") {
		t.Errorf("impact of max_age 30 on a sign-in a minute old: %q", got)
	}
	c.Run("a dry run of the unsaved edit",
		chromedp.Click(`#dry-run summary`, q), chromedp.Click(`button[value="decide"]`, q), chromedp.WaitVisible(`#try-result #result`, q),
		c.View("11-try-decide-1280"))
	if got := c.Text(`#try-result #result h2`); !strings.Contains(got, "step_up") {
		t.Errorf("dry run of the example payment: %q", got)
	}
	c.Run("open an audited decision in the playground",
		c.Open("/audit/decisions/"+rec.DecisionID), chromedp.WaitVisible(`#open-playground`, q), c.View("12-decision-1280"),
		chromedp.Click(`#open-playground`, q), chromedp.WaitReady(`input[name="decision"]`, q),
		chromedp.WaitVisible(`.cm-editor .cm-content`, q), chromedp.WaitVisible(`//button[text()="Decide"]`),
		chromedp.Click(`//button[text()="Decide"]`), chromedp.WaitVisible(`#result`, q), c.View("13-playground-decision-1280"))
	if got := c.Text(`#result h2`); !strings.Contains(got, "allow") {
		t.Errorf("the recorded input replayed: %q", got)
	}

	c.Run("the read-only view numbers its lines",
		c.Open("/policies/1"), chromedp.WaitVisible(`pre.numbered .ln`, q), c.Shot("04-policy-1280"))
	c.Run("at 390 px wide",
		chromedp.EmulateViewport(390, 844),
		c.Open("/policies/1/edit"), chromedp.WaitVisible(ed+` .cm-content`, q), c.View("05-edit-390"),
		chromedp.ScrollIntoView(ed, q), c.View("06-editor-390"),
		c.Open("/policies/1"), chromedp.WaitVisible(`pre.numbered .ln`, q), chromedp.ScrollIntoView(`pre.numbered`, q), c.View("07-policy-390"),
		c.Open("/policies/1/playground"), chromedp.WaitVisible(`.cm-editor .cm-content`, q), c.Shot("08-playground-390"),
		c.Open("/policies/1/edit"), chromedp.WaitVisible(ed+` .cm-content`, q),
		chromedp.Click(`button[value="impact"]`, q), chromedp.WaitVisible(`#try-impact`, q), c.View("14-try-impact-390"),
		c.Open("/playground?decision="+rec.DecisionID), chromedp.WaitReady(`input[name="decision"]`, q),
		chromedp.WaitVisible(`.cm-editor .cm-content`, q), chromedp.WaitVisible(`//button[text()="Decide"]`),
		chromedp.Click(`//button[text()="Decide"]`), chromedp.WaitVisible(`#result`, q), c.Shot("15-playground-decision-390"))

	var csp []string
	c.Run("no CSP violations", chromedp.Evaluate(`window.__csp`, &csp))
	if len(csp) > 0 {
		t.Errorf("CSP violations: %v", csp)
	}
	if got := errs.all(); len(got) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(got, "\n"))
	}
	t.Logf("screenshots in %s", c.Dir())
}
