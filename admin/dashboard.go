package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// AuditStats aggregates the audit trail in the database: the dashboard
// part of storage.Store, whose contract the conformance suite checks.
type AuditStats interface {
	storage.AuditStats
}

// QueueStats describes the audit writer's queue for the dashboard.
type QueueStats struct {
	Mode      string
	Depth     int
	Capacity  int
	LastError string
	// LastCommit is when a batch last committed; zero if never.
	LastCommit time.Time
	// Journal is true when records are made durable in a local journal
	// and indexed into the database in the background: Journaled entries
	// written, Indexed through which the database holds them, Backlog not
	// yet searchable, IndexedAt when the database last took some.
	Journal                     bool
	Journaled, Indexed, Backlog int64
	IndexedAt                   time.Time
}

// Outcomes lists the four decision outcomes in display order.
var Outcomes = []string{"allow", "step_up", "ciba", "deny"}

// Bucket is one time slot of the decisions chart.
type Bucket struct {
	Start  time.Time
	Counts map[string]int64
}

// ActionRates are the decision counts of one action.
type ActionRates struct {
	Action                         string
	Total                          int64
	Allow, StepUp, CIBA, Deny      int64
	StepUpRate, CIBARate, DenyRate float64
}

// Dashboard is everything the dashboard page shows.
type Dashboard struct {
	Since, Until time.Time
	Buckets      []Bucket
	Totals       map[string]int64
	Actions      []ActionRates
	TopDenied    []ActionRates
	// FollowUps counts flow records (step-up verifications, CIBA
	// transitions, session events) by kind and outcome; Flows reads them
	// for the page.
	FollowUps map[string]map[string]int64
	Flows     FollowUpView
}

// BuildDashboard aggregates the window [until-window, until) into n buckets.
func BuildDashboard(ctx context.Context, st AuditStats, until time.Time, window time.Duration, n int) (*Dashboard, error) {
	bucket := (window / time.Duration(n)).Truncate(time.Second)
	if bucket < time.Second {
		bucket = time.Second
	}
	until = until.Truncate(bucket).Add(bucket)
	since := until.Add(-bucket * time.Duration(n))
	d := &Dashboard{Since: since, Until: until, Totals: map[string]int64{}, FollowUps: map[string]map[string]int64{}}
	counts, err := st.CountAuditBuckets(ctx, storage.KindDecision, since, until, bucket)
	if err != nil {
		return nil, fmt.Errorf("dashboard: decisions over time: %w", err)
	}
	for i := range n {
		start := since.Add(bucket * time.Duration(i))
		b := Bucket{Start: start, Counts: map[string]int64{}}
		for o, c := range counts[start.Unix()] {
			b.Counts[o] += c
			d.Totals[o] += c
		}
		d.Buckets = append(d.Buckets, b)
	}
	byAction, err := st.CountAuditByAction(ctx, storage.KindDecision, since, until)
	if err != nil {
		return nil, fmt.Errorf("dashboard: decisions per action: %w", err)
	}
	for action, oc := range byAction {
		r := ActionRates{Action: action, Allow: oc["allow"], StepUp: oc["step_up"], CIBA: oc["ciba"], Deny: oc["deny"]}
		for _, c := range oc {
			r.Total += c
		}
		if r.Total > 0 {
			r.StepUpRate = float64(r.StepUp) / float64(r.Total)
			r.CIBARate = float64(r.CIBA) / float64(r.Total)
			r.DenyRate = float64(r.Deny) / float64(r.Total)
		}
		d.Actions = append(d.Actions, r)
	}
	slices.SortFunc(d.Actions, func(a, b ActionRates) int { return strings.Compare(a.Action, b.Action) })
	for _, r := range d.Actions {
		if r.Deny > 0 {
			d.TopDenied = append(d.TopDenied, r)
		}
	}
	slices.SortStableFunc(d.TopDenied, func(a, b ActionRates) int { return int(b.Deny - a.Deny) })
	d.TopDenied = d.TopDenied[:min(len(d.TopDenied), 10)]
	for _, kind := range storage.FlowKinds {
		m, err := st.CountAuditByAction(ctx, kind, since, until)
		if err != nil {
			return nil, fmt.Errorf("dashboard: %s follow-ups: %w", kind, err)
		}
		agg := map[string]int64{}
		for _, oc := range m {
			for o, c := range oc {
				agg[o] += c
			}
		}
		d.FollowUps[kind] = agg
	}
	d.Flows = followUpView(d.FollowUps)
	return d, nil
}
