package adminhttp_test

import (
	"context"
	"html"
	"math"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/adminhttp"
)

// textOf is the text of the element with id, up to its closing tag.
func textOf(t *testing.T, body, id, tag string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)id="` + id + `"[^>]*>(.*?)</` + tag + `>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no element #%s", id)
	}
	return html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], ""))
}

// TestDashboardLiveFiguresActivePolicyAndQueue: the dashboard shows the
// live figures it is given, the active revision with who activated it and
// why, and the audit queue's real last commit.
func TestDashboardLiveFiguresActivePolicyAndQueue(t *testing.T) {
	commit := time.Date(2026, 3, 2, 9, 59, 58, 0, time.UTC)
	e := newEnv(t, func(c *adminhttp.Config) {
		c.Live = func() admin.LiveStats {
			return admin.LiveStats{Window: 15 * time.Minute, Decisions: 1234, PerMinute: 82.27, P50: 840 * time.Microsecond,
				P99: 12 * time.Millisecond, Errors: 3, Timeouts: 2}
		}
		c.AuditQueue = func() admin.QueueStats {
			return admin.QueueStats{Mode: "async", Depth: 2, Capacity: 100, LastCommit: commit}
		}
	})
	b := e.browser()
	b.signIn()
	// Activate revision 2 through the UI so the timeline has a reason.
	ctx := context.Background()
	_, files, err := e.policies.Files(ctx, e.active.ID)
	if err != nil {
		t.Fatal(err)
	}
	rev, _, err := e.policies.Push(ctx, "setup", files, "same rules", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.policies.Activate(ctx, admin.LocalAdmin, rev.ID, "CHG-77 quarterly review"); err != nil {
		t.Fatal(err)
	}

	r := b.get("/")
	for id, want := range map[string]string{"live-rate": "82.3", "live-p50": "840µs", "live-p99": "12ms", "live-errors": "3", "live-timeouts": "2"} {
		if got := strings.TrimSpace(textOf(t, r.Body, id, "dd")); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	active := textOf(t, r.Body, "active-policy", "div")
	for _, want := range []string{"Revision #2", "Activated 2026-03-02 10:00:00 UTC by admin", "Why: CHG-77 quarterly review"} {
		if !strings.Contains(active, want) {
			t.Errorf("active policy card %q lacks %q", active, want)
		}
	}
	if q := textOf(t, r.Body, "audit-queue", "p"); !strings.Contains(q, "last commit 2026-03-02 09:59:58 UTC") {
		t.Errorf("audit queue line %q lacks the last commit", q)
	}
}

func TestDashboardWithoutLiveFiguresOrCommits(t *testing.T) {
	e := newEnv(t, func(c *adminhttp.Config) {
		c.AuditQueue = func() admin.QueueStats { return admin.QueueStats{Mode: "sync", Capacity: 10} }
	})
	b := e.browser()
	b.signIn()
	r := b.get("/")
	mustContain(t, r, "does not measure live decision traffic", "last commit none since this process started")
}

// TestDashboardChartTellsOutcomesApartWithoutColour: each outcome has its
// own dash pattern and marker, ciba is drawn over deny, every colour has
// 3:1 contrast on the white chart, and the numbers are also a table.
func TestDashboardChartTellsOutcomesApartWithoutColour(t *testing.T) {
	e := newEnv(t)
	e.seed(seedRec{id: "a", subject: "s", action: "billing.pay", outcome: "ciba", ago: time.Hour},
		seedRec{id: "b", subject: "s", action: "billing.pay", outcome: "deny", ago: time.Hour})
	b := e.browser()
	b.signIn()
	r := b.get("/?" + url.Values{"window": {"24h"}}.Encode())
	order := regexp.MustCompile(`<g class="series-([a-z_]+)">`).FindAllStringSubmatch(r.Body, -1)
	var series []string
	for _, m := range order {
		series = append(series, m[1])
	}
	if strings.Join(series, ",") != "deny,allow,step_up,ciba" {
		t.Errorf("series drawn in order %v, want ciba last (on top of deny)", series)
	}
	dashes := regexp.MustCompile(`<polyline fill="none" stroke="(#[0-9a-f]{6})" stroke-width="2.5"(?: stroke-dasharray="([0-9 ]+)")?`).FindAllStringSubmatch(r.Body, -1)
	seen := map[string]bool{}
	for _, m := range dashes {
		if seen[m[2]] {
			t.Errorf("two outcomes share the dash pattern %q", m[2])
		}
		seen[m[2]] = true
		if c := contrast(m[1], "#ffffff"); c < 3 {
			t.Errorf("line colour %s has contrast %.2f on white, want ≥ 3", m[1], c)
		}
	}
	if len(dashes) != 4 {
		t.Fatalf("%d lines, want 4", len(dashes))
	}
	// One marker on the ciba line and one on the deny line, of different shapes.
	mustContain(t, r, `d="M0,-5 L4.5,3.5 L-4.5,3.5 Z" fill="#6b3fb2"`, `d="M0,-5 L5,0 L0,5 L-5,0 Z" fill="#fff" stroke="#b3261e"`)
	mustContain(t, r, "The chart's numbers as a table", `<div class="chartwrap" tabindex="0" role="region"`)
}

// contrast is the WCAG 2.1 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	lum := func(h string) float64 {
		var c [3]float64
		for i := range c {
			var v int
			for _, ch := range h[1+2*i : 3+2*i] {
				v = v*16 + strings.IndexRune("0123456789abcdef", ch)
			}
			x := float64(v) / 255
			if x <= 0.03928 {
				c[i] = x / 12.92
			} else {
				c[i] = math.Pow((x+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
	}
	la, lb := lum(a), lum(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}
