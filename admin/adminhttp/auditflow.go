package adminhttp

import (
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/trail"
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

// rowsOf adds the labelled flow facts to each entry.
func rowsOf(entries []trail.Entry) []auditRowView {
	rows := make([]auditRowView, len(entries))
	for i, e := range entries {
		rows[i].Entry = e
		if e.FlowDetail != nil {
			rows[i].Flow = flowFacts(*e.FlowDetail)
		}
	}
	return rows
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
