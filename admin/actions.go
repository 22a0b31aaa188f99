package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stepgate/stepgate/pdp/policy"
)

// ActionsDataFile is the bundle file holding data.stepgate.actions.
const ActionsDataFile = "stepgate/data.json"

// ActionRule is one row of the per-action requirements table
// (data.stepgate.actions[Name]; see policies/doc.go for the schema).
type ActionRule struct {
	Name        string
	Description string
	MFA         bool
	AMRAny      []string
	ACRValues   []string
	// MaxAge is in seconds; nil means no freshness requirement.
	MaxAge *int64
	// FreshLogin makes the requirement a re-authentication (a new login
	// after the step-up request) instead of a freshness window.
	FreshLogin bool
	// CIBAChannels and CIBAAmountAtLeast trigger approval on the user's device.
	CIBAChannels      []string
	CIBAAmountAtLeast *float64
	CIBABindingHint   string
}

// ReadActions returns the table from a bundle, sorted by action name, and
// whether the bundle has the data file at all.
func ReadActions(files policy.Files) ([]ActionRule, bool, error) {
	raw, ok := files[ActionsDataFile]
	if !ok {
		return nil, false, nil
	}
	var doc struct {
		Actions map[string]map[string]json.RawMessage `json:"actions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, true, fmt.Errorf("%w: %s: %v", ErrInvalid, ActionsDataFile, err)
	}
	out := make([]ActionRule, 0, len(doc.Actions))
	for name, entry := range doc.Actions {
		r := ActionRule{Name: name}
		var ciba struct {
			Channels       []string `json:"channels"`
			AmountAtLeast  *float64 `json:"amount_at_least"`
			BindingMessage string   `json:"binding_message"`
		}
		fields := map[string]any{"description": &r.Description, "mfa": &r.MFA, "amr_any": &r.AMRAny,
			"acr_values": &r.ACRValues, "max_age": &r.MaxAge, "fresh_login": &r.FreshLogin, "ciba": &ciba}
		for k, v := range entry {
			dst, known := fields[k]
			if !known {
				return nil, true, fmt.Errorf("%w: actions[%q] has key %q, which the table form does not know; edit data.json directly", ErrInvalid, name, k)
			}
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, true, fmt.Errorf("%w: actions[%q].%s: %v", ErrInvalid, name, k, err)
			}
		}
		r.CIBAChannels, r.CIBAAmountAtLeast, r.CIBABindingHint = ciba.Channels, ciba.AmountAtLeast, ciba.BindingMessage
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ActionRule) int { return strings.Compare(a.Name, b.Name) })
	return out, true, nil
}

// WriteActions replaces data.stepgate.actions in the bundle's data file
// with rules. It edits the file's text in place: only the values that
// change are rewritten, a new action or field is added after the last one
// in the file's own indentation, a removed one is cut out with its line,
// and key order, inline arrays and every other key (settings, …) stay as
// they were, so that the revision diff shows the change and nothing else.
func WriteActions(files policy.Files, rules []ActionRule) (policy.Files, error) {
	src, ok := files[ActionsDataFile]
	if !ok {
		src = []byte("{}\n")
	}
	want := make([]jfield, 0, len(rules))
	for _, r := range rules {
		want = append(want, jfield{key: r.Name, val: r.fields()})
	}
	out, err := patchJSONObject(src, "actions", want)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, ActionsDataFile, err)
	}
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	next := make(policy.Files, len(files)+1)
	for k, v := range files {
		next[k] = v
	}
	next[ActionsDataFile] = out
	return next, nil
}

// fields are the rule's data entry in the order the table writes new
// fields; zero values are left out.
func (r ActionRule) fields() []jfield {
	f := []jfield{}
	if r.Description != "" {
		f = append(f, jfield{"description", r.Description})
	}
	if r.MFA {
		f = append(f, jfield{"mfa", true})
	}
	if len(r.AMRAny) > 0 {
		f = append(f, jfield{"amr_any", r.AMRAny})
	}
	if len(r.ACRValues) > 0 {
		f = append(f, jfield{"acr_values", r.ACRValues})
	}
	if r.MaxAge != nil {
		f = append(f, jfield{"max_age", *r.MaxAge})
	}
	if r.FreshLogin {
		f = append(f, jfield{"fresh_login", true})
	}
	var ciba []jfield
	if len(r.CIBAChannels) > 0 {
		ciba = append(ciba, jfield{"channels", r.CIBAChannels})
	}
	if r.CIBAAmountAtLeast != nil {
		ciba = append(ciba, jfield{"amount_at_least", *r.CIBAAmountAtLeast})
	}
	if r.CIBABindingHint != "" {
		ciba = append(ciba, jfield{"binding_message", r.CIBABindingHint})
	}
	if len(ciba) > 0 {
		f = append(f, jfield{"ciba", ciba})
	}
	return f
}

// ActionRow is one row as typed into the table form; ParseActionRow turns
// it into an ActionRule and reports problems per field.
type ActionRow struct {
	Name, Description, AMRAny, ACRValues, MaxAge string
	MFA, FreshLogin                              bool
	CIBAChannels, CIBAAmount, CIBABinding        string
}

// ParseActionRow validates one form row.
func ParseActionRow(row ActionRow) (ActionRule, FieldErrors) {
	errs := FieldErrors{}
	r := ActionRule{Name: strings.TrimSpace(row.Name), Description: strings.TrimSpace(row.Description), MFA: row.MFA, FreshLogin: row.FreshLogin,
		AMRAny: SplitList(row.AMRAny), ACRValues: SplitList(row.ACRValues), CIBAChannels: SplitList(row.CIBAChannels),
		CIBABindingHint: strings.TrimSpace(row.CIBABinding)}
	if !policy.ValidAction(r.Name) {
		errs["name"] = "an action name such as billing.pay (letters, digits and . _ : / -)"
	}
	if s := strings.TrimSpace(row.MaxAge); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			errs["max_age"] = "a whole number of seconds, 0 or more"
		} else {
			r.MaxAge = &n
		}
	}
	if s := strings.TrimSpace(row.CIBAAmount); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 {
			errs["ciba_amount"] = "a number, 0 or more"
		} else {
			r.CIBAAmountAtLeast = &f
		}
	}
	return r, errs
}

// SplitList splits a comma- or whitespace-separated list, dropping blanks.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}
