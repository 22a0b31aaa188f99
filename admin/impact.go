package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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
// differently.
type ImpactChange struct {
	DecisionID string
	Action     string
	Subject    string
	Before     string
	After      policy.Outcome
	Reasons    []string
}

// ImpactCount groups changes by action and outcome transition.
type ImpactCount struct {
	Action string
	Before string
	After  policy.Outcome
	Count  int
}

// Impact is the result of replaying audited decisions against a draft.
type Impact struct {
	// Replayed counts decisions replayed; Skipped those without a stored
	// input (e.g. rejected tokens never reached the policy).
	Replayed, Skipped int
	Changed           []ImpactChange
	Counts            []ImpactCount
}

// AnalyzeImpact replays the last n audited decisions (their stored, redacted
// inputs, with their original `now`) against files and lists every decision
// that would change. Redacted claims are absent in the replay as they were
// absent from the record; a policy that reads them may show spurious changes.
func AnalyzeImpact(ctx context.Context, audit AuditReader, comp Compiler, files policy.Files, n int) (*Impact, error) {
	n = min(max(n, 1), MaxImpactSample)
	pol, err := comp.Compile(ctx, policy.Revision{Hash: files.Hash(), Files: files})
	if err != nil {
		return nil, err
	}
	imp := &Impact{}
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
			res := pol.Eval(ctx, in)
			if string(res.Outcome) == rec.Outcome {
				continue
			}
			imp.Changed = append(imp.Changed, ImpactChange{DecisionID: rec.DecisionID, Action: rec.Action,
				Subject: rec.Subject, Before: rec.Outcome, After: res.Outcome, Reasons: res.Reasons})
			counts[ImpactCount{Action: rec.Action, Before: rec.Outcome, After: res.Outcome}]++
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
		return strings.Compare(a.Action+a.Before+string(a.After), b.Action+b.Before+string(b.After))
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
