package adminhttp

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
)

// chart is a server-rendered SVG line chart: one polyline per outcome.
type chart struct {
	W, H, Left, Bottom int
	Lines              []chartLine
	YTicks             []chartTick
	XTicks             []chartTick
	Max                int64
	Empty              bool
}

type chartLine struct {
	Outcome string
	Color   string
	Points  string
}

type chartTick struct {
	Pos   float64
	Label string
}

var outcomeColors = map[string]string{"allow": "#1b7f3b", "step_up": "#b26b00", "ciba": "#6b3fb2", "deny": "#b3261e"}

func buildChart(d *admin.Dashboard) chart {
	ch := chart{W: 960, H: 260, Left: 48, Bottom: 28}
	for _, b := range d.Buckets {
		for _, n := range b.Counts {
			ch.Max = max(ch.Max, n)
		}
	}
	ch.Empty = ch.Max == 0
	top := max(ch.Max, 4)
	plotW, plotH := float64(ch.W-ch.Left-10), float64(ch.H-ch.Bottom-10)
	x := func(i int) float64 {
		if len(d.Buckets) < 2 {
			return float64(ch.Left)
		}
		return float64(ch.Left) + plotW*float64(i)/float64(len(d.Buckets)-1)
	}
	y := func(n int64) float64 { return 10 + plotH*(1-float64(n)/float64(top)) }
	for _, o := range admin.Outcomes {
		var pts []string
		for i, b := range d.Buckets {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(b.Counts[o])))
		}
		ch.Lines = append(ch.Lines, chartLine{Outcome: o, Color: outcomeColors[o], Points: strings.Join(pts, " ")})
	}
	for i := 0; i <= 4; i++ {
		n := top * int64(i) / 4
		ch.YTicks = append(ch.YTicks, chartTick{Pos: y(n), Label: fmt.Sprint(n)})
	}
	step := max(1, len(d.Buckets)/6)
	for i := 0; i < len(d.Buckets); i += step {
		ch.XTicks = append(ch.XTicks, chartTick{Pos: x(i), Label: d.Buckets[i].Start.UTC().Format("Jan 2 15:04")})
	}
	return ch
}

type dashboardView struct {
	D      *admin.Dashboard
	Chart  chart
	Queue  *admin.QueueStats
	Window string
	Total  int64
}

func (s *server) dashboard(c echo.Context) error {
	windows := map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}
	w := c.QueryParam("window")
	if _, ok := windows[w]; !ok {
		w = "24h"
	}
	d, err := admin.BuildDashboard(c.Request().Context(), s.cfg.Store, s.cfg.Now(), windows[w], 24)
	if err != nil {
		return err
	}
	v := dashboardView{D: d, Chart: buildChart(d), Window: w}
	for _, n := range d.Totals {
		v.Total += n
	}
	if s.cfg.AuditQueue != nil {
		q := s.cfg.AuditQueue()
		v.Queue = &q
	}
	return s.render(c, http.StatusOK, "dashboard", "Dashboard", "dashboard", v)
}
