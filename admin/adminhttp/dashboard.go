package adminhttp

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
)

// chart is a server-rendered SVG line chart: one polyline per outcome,
// told apart by colour, dash pattern and point marker, so that it reads
// without colour vision and with lines on top of each other.
type chart struct {
	W, H, Left, Bottom int
	Lines              []chartLine
	YTicks             []chartTick
	XTicks             []chartTick
	Max                int64
	Empty              bool
	// Rows are the chart's numbers as a table, per bucket.
	Rows []chartRow
}

type chartLine struct {
	Outcome string
	Style   outcomeStyle
	Points  string
	Marks   []chartMark
}

// chartMark is a point marker where the count is not zero.
type chartMark struct{ X, Y float64 }

type chartTick struct {
	Pos   float64
	Label string
}

type chartRow struct {
	Start  string
	Counts []int64 // in admin.Outcomes order
}

// outcomeStyle draws one outcome. Colours have at least 3:1 contrast on
// the white chart (WCAG 1.4.11), checked in dashboard_test.go.
type outcomeStyle struct {
	Color string
	// Dash is an SVG stroke-dasharray ("" for a solid line).
	Dash string
	// Shape is the point marker: circle, square, triangle or diamond.
	Shape string
}

var outcomeStyles = map[string]outcomeStyle{
	"allow":   {Color: "#166c33", Shape: "circle"},
	"step_up": {Color: "#8a5300", Dash: "10 5", Shape: "square"},
	"ciba":    {Color: "#6b3fb2", Dash: "3 4", Shape: "triangle"},
	"deny":    {Color: "#b3261e", Dash: "12 4 3 4", Shape: "diamond"},
}

// drawOrder paints deny first and ciba last: the rarest outcome stays on
// top where lines coincide, and the dash gaps show what lies beneath.
var drawOrder = []string{"deny", "allow", "step_up", "ciba"}

func buildChart(d *admin.Dashboard) chart {
	ch := chart{W: 960, H: 280, Left: 52, Bottom: 32}
	for _, b := range d.Buckets {
		for _, n := range b.Counts {
			ch.Max = max(ch.Max, n)
		}
	}
	ch.Empty = ch.Max == 0
	top := max(ch.Max, 4)
	plotW, plotH := float64(ch.W-ch.Left-14), float64(ch.H-ch.Bottom-14)
	x := func(i int) float64 {
		if len(d.Buckets) < 2 {
			return float64(ch.Left)
		}
		return float64(ch.Left) + plotW*float64(i)/float64(len(d.Buckets)-1)
	}
	y := func(n int64) float64 { return 14 + plotH*(1-float64(n)/float64(top)) }
	for _, o := range drawOrder {
		l := chartLine{Outcome: o, Style: outcomeStyles[o]}
		var pts []string
		for i, b := range d.Buckets {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(b.Counts[o])))
			if b.Counts[o] > 0 {
				l.Marks = append(l.Marks, chartMark{X: x(i), Y: y(b.Counts[o])})
			}
		}
		l.Points = strings.Join(pts, " ")
		ch.Lines = append(ch.Lines, l)
	}
	for i := 0; i <= 4; i++ {
		n := top * int64(i) / 4
		ch.YTicks = append(ch.YTicks, chartTick{Pos: y(n), Label: fmt.Sprint(n)})
	}
	step := max(1, len(d.Buckets)/6)
	for i := 0; i < len(d.Buckets); i += step {
		ch.XTicks = append(ch.XTicks, chartTick{Pos: x(i), Label: d.Buckets[i].Start.UTC().Format("Jan 2 15:04")})
	}
	for _, b := range d.Buckets {
		r := chartRow{Start: b.Start.UTC().Format("Jan 2 15:04")}
		for _, o := range admin.Outcomes {
			r.Counts = append(r.Counts, b.Counts[o])
		}
		ch.Rows = append(ch.Rows, r)
	}
	return ch
}

type dashboardView struct {
	D      *admin.Dashboard
	Chart  chart
	Queue  *admin.QueueStats
	Live   *admin.LiveStats
	Active *admin.ActivePolicy
	Window string
	Total  int64
	// Outcomes and Styles draw the legend.
	Outcomes []string
	Styles   map[string]outcomeStyle
}

func (s *server) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	windows := map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}
	w := c.QueryParam("window")
	if _, ok := windows[w]; !ok {
		w = "24h"
	}
	d, err := admin.BuildDashboard(ctx, s.cfg.Store, s.cfg.Now(), windows[w], 24)
	if err != nil {
		return err
	}
	v := dashboardView{D: d, Chart: buildChart(d), Window: w, Outcomes: admin.Outcomes, Styles: outcomeStyles}
	for _, n := range d.Totals {
		v.Total += n
	}
	if v.Active, err = admin.ActivePolicyOf(ctx, s.cfg.Store); err != nil {
		return err
	}
	if s.cfg.AuditQueue != nil {
		q := s.cfg.AuditQueue()
		v.Queue = &q
	}
	if s.cfg.Live != nil {
		l := s.cfg.Live()
		v.Live = &l
	}
	return s.render(c, http.StatusOK, "dashboard", "Dashboard", "dashboard", v)
}
