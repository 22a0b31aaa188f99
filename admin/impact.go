package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

// AuditReader is the read side of the audit trail.
type AuditReader interface {
	SearchAudit(ctx context.Context, q storage.AuditQuery) (storage.AuditPage, error)
}

// MaxImpactSample bounds how many decisions one impact analysis replays.
const MaxImpactSample = 5000

// ImpactChange is one audited decision that the draft would decide
// differently from the active revision.
type ImpactChange struct {
	DecisionID string
	Action     string
	Subject    string
	Time       time.Time
	// Recorded is the outcome recorded when the decision was made, under
	// whatever revision was active then.
	Recorded string
	// Before is what the active revision decides on the same input now;
	// After is what the draft decides, with its Reasons.
	Before  policy.Outcome
	After   policy.Outcome
	Reasons []string
}

// Change names the transition, e.g. "allow→step_up", as the filter uses it.
func (c ImpactChange) Change() string { return string(c.Before) + "→" + string(c.After) }

// ImpactCount groups changes by action and outcome transition.
type ImpactCount struct {
	Action string
	Before policy.Outcome
	After  policy.Outcome
	Count  int
}

// Change names the transition, e.g. "allow→step_up".
func (c ImpactCount) Change() string { return string(c.Before) + "→" + string(c.After) }

// Impact is the result of replaying audited decisions against the active
// revision and a draft: three outcomes per decision (recorded, active now,
// draft), and the changes are those from the active revision to the draft,
// the ones activating the draft would cause.
type Impact struct {
	// Base is the active revision the draft is compared with; 0 when none
	// is active, and then Before is the recorded outcome.
	Base int64
	// Replayed counts decisions replayed; Skipped those without a stored
	// input (e.g. rejected tokens never reached the policy).
	Replayed, Skipped int
	// Drifted counts replayed decisions the active revision now decides
	// differently from the record (made under another revision, or
	// redacted claims the policy reads): not the draft's doing.
	Drifted int
	Changed []ImpactChange
	Counts  []ImpactCount
}

// Filter returns the changes of action ("" for all) whose transition is
// change (e.g. "allow→step_up"; "" for all).
func (imp *Impact) Filter(action, change string) []ImpactChange {
	var out []ImpactChange
	for _, c := range imp.Changed {
		if (action == "" || c.Action == action) && (change == "" || c.Change() == change) {
			out = append(out, c)
		}
	}
	return out
}

// Actions lists the actions with changes, for a filter.
func (imp *Impact) Actions() []string {
	var out []string
	for _, c := range imp.Counts {
		if !slices.Contains(out, c.Action) {
			out = append(out, c.Action)
		}
	}
	slices.Sort(out)
	return out
}

// Transitions lists the outcome changes that occur, for a filter.
func (imp *Impact) Transitions() []string {
	var out []string
	for _, c := range imp.Counts {
		if !slices.Contains(out, c.Change()) {
			out = append(out, c.Change())
		}
	}
	slices.Sort(out)
	return out
}

// ImpactAgainstActive replays the last n audited decisions against the
// active revision and against files: what activating files would change.
func (p *Policies) ImpactAgainstActive(ctx context.Context, audit AuditReader, files policy.Files, n int) (*Impact, error) {
	active, err := p.cfg.Store.ActiveRevision(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return AnalyzeImpact(ctx, audit, p.cfg.Compiler, Baseline{}, files, n)
	}
	if err != nil {
		return nil, fmt.Errorf("impact: active revision: %w", err)
	}
	base, err := policy.ReadTarball(active.Bundle)
	if err != nil {
		return nil, fmt.Errorf("impact: revision %d: %w", active.ID, err)
	}
	return AnalyzeImpact(ctx, audit, p.cfg.Compiler, Baseline{ID: active.ID, Files: base}, files, n)
}

// Baseline is the revision a draft is compared with; the zero Baseline
// compares with the recorded outcomes.
type Baseline struct {
	ID    int64
	Files policy.Files
}

// AnalyzeImpact replays the last n audited decisions (their stored, redacted
// inputs, with their original `now`) against the baseline revision and
// against files, and lists every decision the two decide differently.
// Redacted claims are absent in the replay as they were absent from the
// record, for both revisions alike.
func AnalyzeImpact(ctx context.Context, audit AuditReader, comp Compiler, base Baseline, files policy.Files, n int) (*Impact, error) {
	n = min(max(n, 1), MaxImpactSample)
	pol, err := comp.Compile(ctx, policy.Revision{Hash: files.Hash(), Files: files})
	if err != nil {
		return nil, err
	}
	var basePol *policy.Policy
	if base.Files != nil {
		if basePol, err = comp.Compile(ctx, policy.Revision{ID: base.ID, Hash: base.Files.Hash(), Files: base.Files}); err != nil {
			return nil, fmt.Errorf("impact: compile revision %d: %w", base.ID, err)
		}
	}
	imp := &Impact{Base: base.ID}
	counts := map[ImpactCount]int{}
	q := storage.AuditQuery{Kind: storage.KindDecision, Limit: min(n, 1000)}
	for seen := 0; seen < n; {
		page, err := audit.SearchAudit(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("impact: read audit: %w", err)
		}
		for _, rec := range page.Records {
			if seen == n {
				break
			}
			seen++
			in, ok := replayInput(rec.Input)
			if !ok {
				imp.Skipped++
				continue
			}
			imp.Replayed++
			before := policy.Outcome(rec.Outcome)
			if basePol != nil {
				before = basePol.Eval(ctx, in).Outcome
			}
			if string(before) != rec.Outcome {
				imp.Drifted++
			}
			res := pol.Eval(ctx, in)
			if res.Outcome == before {
				continue
			}
			imp.Changed = append(imp.Changed, ImpactChange{DecisionID: rec.DecisionID, Action: rec.Action, Subject: rec.Subject,
				Time: rec.Time, Recorded: rec.Outcome, Before: before, After: res.Outcome, Reasons: res.Reasons})
			counts[ImpactCount{Action: rec.Action, Before: before, After: res.Outcome}]++
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	for k, c := range counts {
		k.Count = c
		imp.Counts = append(imp.Counts, k)
	}
	slices.SortFunc(imp.Counts, func(a, b ImpactCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Action+a.Change(), b.Action+b.Change())
	})
	return imp, nil
}

func replayInput(raw []byte) (*policy.Input, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	var in policy.Input
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil || in.Action.Name == "" {
		return nil, false
	}
	return &in, true
}
