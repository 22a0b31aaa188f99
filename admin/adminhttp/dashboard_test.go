package adminhttp_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/storage"
)

// stat reads the number of the dashboard tile with the given id.
func stat(t testing.TB, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">(\d+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("dashboard has no %s tile", id)
	}
	return m[1]
}

func TestDashboardNumbersMatchTheAudit(t *testing.T) {
	e := newEnv(t, func(c *adminhttp.Config) {
		c.AuditQueue = func() admin.QueueStats { return admin.QueueStats{Mode: "sync", Depth: 3, Capacity: 1000} }
	})
	var recs []seedRec
	add := func(n int, action, outcome string, ago time.Duration) {
		for range n {
			recs = append(recs, seedRec{id: fmt.Sprintf("d-%d", len(recs)), subject: "s", action: action, outcome: outcome, ago: ago})
		}
	}
	add(3, "billing.view", "allow", 2*time.Hour)
	add(2, "billing.view", "step_up", 90*time.Minute)
	add(1, "billing.pay", "ciba", time.Hour)
	add(4, "billing.pay", "deny", 30*time.Minute)
	add(1, "reports.export", "deny", 10*time.Minute)
	add(5, "billing.view", "allow", 3*day) // outside the 24h window
	e.seed(recs...)
	e.seed(seedRec{id: "d-1", kind: storage.KindStepUp, action: "billing.view", outcome: "verified", ago: 80 * time.Minute})
	b := e.browser()
	b.signIn()

	tests := []struct {
		window                                 string
		total, allow, stepUp, ciba, deny, rate string
	}{
		{"24h", "11", "3", "2", "1", "5", "40%"},
		{"7d", "16", "8", "2", "1", "5", "20%"},
	}
	for _, tc := range tests {
		t.Run(tc.window, func(t *testing.T) {
			r := b.get("/?window=" + tc.window)
			if r.Code != http.StatusOK {
				t.Fatalf("status %d", r.Code)
			}
			for id, want := range map[string]string{"stat-total": tc.total, "stat-allow": tc.allow, "stat-step_up": tc.stepUp,
				"stat-ciba": tc.ciba, "stat-deny": tc.deny} {
				if got := stat(t, r.Body, id); got != want {
					t.Errorf("%s = %s, want %s", id, got, want)
				}
			}
			if n := strings.Count(r.Body, "<polyline"); n != 4 {
				t.Errorf("chart has %d lines, want one per outcome", n)
			}
			mustContain(t, r, `<svg class="chart"`, "billing.view</a></td><td class=\"num\">", tc.rate)
			// billing.pay has the most denials, so it heads "Top denied".
			top := r.Body[strings.Index(r.Body, "Top denied actions"):]
			if strings.Index(top, "billing.pay") > strings.Index(top, "reports.export") {
				t.Error("top denied actions are not sorted by denials")
			}
			mustContain(t, r, "verified: 1", "Mode <strong>sync</strong> · 3 of 1000 queued")
		})
	}
}

func TestDashboardEmptyState(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	r := b.get("/")
	if r.Code != http.StatusOK {
		t.Fatalf("status %d", r.Code)
	}
	if got := stat(t, r.Body, "stat-total"); got != "0" {
		t.Fatalf("total %s on an empty audit trail", got)
	}
	mustContain(t, r, `<svg class="chart"`, "No decisions in this window yet.", "No decisions yet.", "Nothing was denied in this window.",
		"does not report queue statistics")
	if strings.Contains(r.Body, "<polyline") {
		t.Error("an empty chart draws lines")
	}
}
