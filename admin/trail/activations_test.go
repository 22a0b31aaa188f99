package trail_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// TestRecordsNameTheirRevisionsActivator: each decision names who activated
// the revision that decided it, when and why — the period in effect at its
// time, also for a revision active twice — in search, the decision's
// records, and both export formats.
func TestRecordsNameTheirRevisionsActivator(t *testing.T) {
	ctx := context.Background()
	st := sqlstoretest.NewSQLite(t)
	var revs []int64
	for i := range 2 {
		r, err := st.CreateRevision(ctx, storage.PolicyRevision{Bundle: []byte{byte(i)}, Hash: "h" + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, r.ID)
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	periods := []storage.RevisionActivation{
		{RevisionID: revs[0], Kind: storage.ActivationActivate, ActivatedAt: t0, ActivatedBy: "admin", Reason: "first start"},
		{RevisionID: revs[1], Kind: storage.ActivationActivate, ActivatedAt: t0.Add(time.Hour), ActivatedBy: "alice",
			Reason: "billing.pay needs MFA", ApprovalID: 3, ApprovedBy: "https://idp|bob", ApprovedLabel: "bob@example.com"},
		{RevisionID: revs[0], Kind: storage.ActivationRollback, ActivatedAt: t0.Add(2 * time.Hour), ActivatedBy: "carol", Reason: "checkout broke"},
	}
	for _, p := range periods {
		if _, err := st.AppendActivation(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	decision := func(id string, rev int64, at time.Duration) storage.AuditRecord {
		return storage.AuditRecord{ChainID: "c", Kind: storage.KindDecision, Time: t0.Add(at), DecisionID: id, Subject: "u",
			Action: "billing.pay", Outcome: "allow", PolicyRevision: rev}
	}
	recs := []storage.AuditRecord{
		decision("d-early", revs[0], 30*time.Minute),
		decision("d-mid", revs[1], 90*time.Minute),
		// Decided by the old revision a moment after the new one went live.
		decision("d-late-swap", revs[0], 60*time.Minute+200*time.Millisecond),
		decision("d-back", revs[0], 150*time.Minute),
	}
	if err := st.AppendAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ by, approved, reason string }{
		"d-early":     {"admin", "", "first start"},
		"d-mid":       {"alice", "bob@example.com (https://idp|bob)", "billing.pay needs MFA"},
		"d-late-swap": {"admin", "", "first start"},
		"d-back":      {"carol", "", "checkout broke"},
	}
	tr := trailOf(t, st)

	page, err := tr.Search(ctx, trail.Filter{Query: storage.AuditQuery{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Entries {
		w := want[e.Rec.DecisionID]
		if e.Activation == nil || trail.ActivatedByText(e.Activation) != w.by || trail.ApprovedByText(e.Activation) != w.approved || e.Activation.Reason != w.reason {
			t.Errorf("search %s: activation %+v, want %+v", e.Rec.DecisionID, e.Activation, w)
		}
	}
	d, err := tr.Decision(ctx, "d-mid")
	if err != nil || d.Decision.Activation == nil || d.Decision.Activation.ApprovalID != 3 {
		t.Fatalf("decision d-mid: %+v, %v", d.Decision, err)
	}

	var buf bytes.Buffer
	if err := tr.Export(ctx, trail.Filter{}, trail.FormatCSV, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	for _, row := range rows[1:] {
		w := want[row[col("decision_id")]]
		if row[col("revision_activated_by")] != w.by || row[col("revision_approved_by")] != w.approved ||
			row[col("revision_activation_reason")] != w.reason || row[col("revision_activated_at")] == "" {
			t.Errorf("csv %s: by %q approved %q reason %q, want %+v", row[col("decision_id")], row[col("revision_activated_by")],
				row[col("revision_approved_by")], row[col("revision_activation_reason")], w)
		}
	}

	buf.Reset()
	if err := tr.Export(ctx, trail.Filter{}, trail.FormatNDJSON, &buf); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var l struct {
			DecisionID string `json:"decision_id"`
			Act        *struct {
				ActivatedBy string `json:"activated_by"`
				Reason      string `json:"reason"`
			} `json:"revision_activation"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		w := want[l.DecisionID]
		if l.Act == nil || l.Act.ActivatedBy != strings.SplitN(w.by, " ", 2)[0] || l.Act.Reason != w.reason {
			t.Errorf("ndjson %s: %+v, want %+v", l.DecisionID, l.Act, w)
		}
	}
}
