package adminhttp

import (
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// flowFact is one labelled fact of a flow record's detail.
type flowFact struct{ Label, Value string }

// flowFacts lists a flow record's detail in reading order: the error code
// first (why it failed), then the session, then what the user proved.
func flowFacts(d storage.FlowDetail) []flowFact {
	var out []flowFact
	add := func(label, v string) {
		if v != "" {
			out = append(out, flowFact{label, v})
		}
	}
	add("code", d.Code)
	add("session", d.SessionID)
	add("sid", d.SID)
	add("acr", d.ACR)
	add("amr", strings.Join(d.AMR, " "))
	if !d.AuthTime.IsZero() {
		add("auth_time", d.AuthTime.UTC().Format(time.RFC3339))
	}
	return out
}

// auditRow is the view of one record: the sign-in facts of a decision's
// input, or the detail of a flow record.
func auditRow(r storage.AuditRecord) auditRowView {
	row := auditRowView{Rec: r, Facts: factsOf(r.Input)}
	if d, ok := storage.FlowDetailOf(r); ok {
		row.FlowDetail, row.Flow = &d, flowFacts(d)
	}
	return row
}

// outcomeGroup is one <optgroup> of the search form's outcome field.
type outcomeGroup struct {
	Label    string
	Outcomes []string
}

// outcomeGroups are the outcomes the search form offers, per record kind.
var outcomeGroups = []outcomeGroup{
	{"Decision", admin.Outcomes},
	{"Step-up", admin.StepUpOutcomes},
	{"CIBA", admin.CIBAOutcomes},
	{"Session", admin.SessionOutcomes},
}

// knownOutcome reports whether the form offers outcome.
func knownOutcome(outcome string) bool {
	for _, g := range outcomeGroups {
		for _, o := range g.Outcomes {
			if o == outcome {
				return true
			}
		}
	}
	return false
}

// flowCSVHeader names the columns the readable export appends for flow
// records (empty for the others); detail is the exact JSON that was hashed.
var flowCSVHeader = []string{"step_up_id", "ciba_id", "code", "session_id", "sid", "acr", "auth_time", "detail"}

// flowCSV is the flow columns of r.
func flowCSV(r storage.AuditRecord, d *storage.FlowDetail) []string {
	cols := []string{r.StepUpID, r.CIBAID, "", "", "", "", "", string(r.Detail)}
	if d != nil {
		cols[2], cols[3], cols[4], cols[5] = d.Code, csvSafe(d.SessionID), csvSafe(d.SID), csvSafe(d.ACR)
		if !d.AuthTime.IsZero() {
			cols[6] = d.AuthTime.UTC().Format(time.RFC3339)
		}
	}
	return cols
}
