package admin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/stepgate/stepgate/pdp/policy"
)

// TableChange is what changed in one action of the requirements table
// between two revisions, in words: "max_age 900 → 600", "mfa removed".
type TableChange struct {
	Action string
	// Added and Removed mark a whole action that appeared or went away.
	Added, Removed bool
	Changes        []string
}

// String reads "billing.view: max_age 900 → 600, mfa removed".
func (c TableChange) String() string {
	switch {
	case c.Added:
		return c.Action + " added"
	case c.Removed:
		return c.Action + " removed"
	}
	return c.Action + ": " + strings.Join(c.Changes, ", ")
}

// SummarizeTables compares the requirements tables (and settings) of two
// bundles, a before and b after, action by action in name order. It is the
// summary shown above the text diff; ok is false when either bundle has no
// table the form can read, and then there is no summary.
func SummarizeTables(a, b policy.Files) (changes []TableChange, ok bool) {
	ra, hasA, errA := ReadActions(a)
	rb, hasB, errB := ReadActions(b)
	if errA != nil || errB != nil || !hasA || !hasB {
		return nil, false
	}
	before := map[string]ActionRule{}
	for _, r := range ra {
		before[r.Name] = r
	}
	after := map[string]ActionRule{}
	for _, r := range rb {
		after[r.Name] = r
	}
	for _, r := range ra {
		if _, ok := after[r.Name]; !ok {
			changes = append(changes, TableChange{Action: r.Name, Removed: true})
		}
	}
	for _, r := range rb {
		old, ok := before[r.Name]
		if !ok {
			changes = append(changes, TableChange{Action: r.Name, Added: true})
			continue
		}
		if c := ruleChanges(old, r); len(c) > 0 {
			changes = append(changes, TableChange{Action: r.Name, Changes: c})
		}
	}
	if c := settingsChanges(a, b); len(c) > 0 {
		changes = append(changes, TableChange{Action: "settings", Changes: c})
	}
	slices.SortStableFunc(changes, func(x, y TableChange) int { return strings.Compare(x.Action, y.Action) })
	return changes, true
}

// ruleChanges names each field of the row that differs.
func ruleChanges(a, b ActionRule) []string {
	var out []string
	flag := func(name string, x, y bool) {
		switch {
		case x && !y:
			out = append(out, name+" removed")
		case !x && y:
			out = append(out, name+" added")
		}
	}
	list := func(name string, x, y []string) {
		if !slices.Equal(x, y) {
			out = append(out, fmt.Sprintf("%s %s → %s", name, listText(x), listText(y)))
		}
	}
	flag("mfa", a.MFA, b.MFA)
	list("amr_any", a.AMRAny, b.AMRAny)
	list("acr_values", a.ACRValues, b.ACRValues)
	if c := valueChange("max_age", a.MaxAge, b.MaxAge, func(n int64) string { return strconv.FormatInt(n, 10) }); c != "" {
		out = append(out, c)
	}
	flag("fresh_login", a.FreshLogin, b.FreshLogin)
	list("ciba channels", a.CIBAChannels, b.CIBAChannels)
	if c := valueChange("ciba amount_at_least", a.CIBAAmountAtLeast, b.CIBAAmountAtLeast,
		func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }); c != "" {
		out = append(out, c)
	}
	if a.CIBABindingHint != b.CIBABindingHint {
		out = append(out, fmt.Sprintf("ciba binding_message %q → %q", a.CIBABindingHint, b.CIBABindingHint))
	}
	if a.Description != b.Description {
		out = append(out, "description changed")
	}
	return out
}

// valueChange reads "max_age 900 → 600", "max_age removed (was 900)" or
// "max_age 600 added"; "" when equal.
func valueChange[T comparable](name string, a, b *T, text func(T) string) string {
	switch {
	case a == nil && b == nil:
		return ""
	case a == nil:
		return fmt.Sprintf("%s %s added", name, text(*b))
	case b == nil:
		return fmt.Sprintf("%s removed (was %s)", name, text(*a))
	case *a != *b:
		return fmt.Sprintf("%s %s → %s", name, text(*a), text(*b))
	}
	return ""
}

func listText(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return "[" + strings.Join(xs, ", ") + "]"
}

// settingsChanges names each key of data.stepgate.settings that differs.
func settingsChanges(a, b policy.Files) []string {
	sa, sb := settingsOf(a), settingsOf(b)
	keys := map[string]bool{}
	for k := range sa {
		keys[k] = true
	}
	for k := range sb {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		x, inA := sa[k]
		y, inB := sb[k]
		switch {
		case !inA:
			out = append(out, fmt.Sprintf("%s %s added", k, y))
		case !inB:
			out = append(out, fmt.Sprintf("%s removed (was %s)", k, x))
		case !jsonEqual(x, y):
			out = append(out, fmt.Sprintf("%s %s → %s", k, x, y))
		}
	}
	slices.Sort(out)
	return out
}

func settingsOf(files policy.Files) map[string]json.RawMessage {
	var doc struct {
		Settings map[string]json.RawMessage `json:"settings"`
	}
	_ = json.Unmarshal(files[ActionsDataFile], &doc) // no settings is an empty map
	return doc.Settings
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return reflect.DeepEqual(x, y)
}
