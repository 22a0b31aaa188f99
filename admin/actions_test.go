package admin_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
)

// defaultTable reads the default bundle and its requirements table.
func defaultTable(t testing.TB) (policy.Files, []admin.ActionRule) {
	t.Helper()
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	rules, _, err := admin.ReadActions(files)
	if err != nil {
		t.Fatal(err)
	}
	return files, rules
}

// edit returns a copy of rules with fn applied to the named action (a new
// one is appended when it does not exist).
func edit(rules []admin.ActionRule, name string, fn func(r *admin.ActionRule)) []admin.ActionRule {
	out := slices.Clone(rules)
	i := slices.IndexFunc(out, func(r admin.ActionRule) bool { return r.Name == name })
	if i < 0 {
		out = append(out, admin.ActionRule{Name: name})
		i = len(out) - 1
	}
	fn(&out[i])
	return out
}

func ptr[T any](v T) *T { return &v }

// tableEdits are valid edits an admin can make in the requirements table,
// covering each field of a few actions.
var tableEdits = []struct {
	name string
	fn   func([]admin.ActionRule) []admin.ActionRule
}{
	{"billing.view max_age 900 to 600", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.view", func(a *admin.ActionRule) { a.MaxAge = ptr[int64](600) })
	}},
	{"billing.view max_age 0", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.view", func(a *admin.ActionRule) { a.MaxAge = ptr[int64](0) })
	}},
	{"billing.view without max_age", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.view", func(a *admin.ActionRule) { a.MaxAge = nil })
	}},
	{"billing.pay without mfa", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.pay", func(a *admin.ActionRule) { a.MFA = false })
	}},
	{"profile.update with mfa", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "profile.update", func(a *admin.ActionRule) { a.MFA = true })
	}},
	{"profile.update without fresh login", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "profile.update", func(a *admin.ActionRule) { a.FreshLogin = false })
	}},
	{"billing.view with fresh login", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.view", func(a *admin.ActionRule) { a.FreshLogin = true })
	}},
	{"billing.pay amr hwk or swk", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.pay", func(a *admin.ActionRule) { a.AMRAny = []string{"hwk", "swk"} })
	}},
	{"billing.view acr values", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.view", func(a *admin.ActionRule) { a.ACRValues = []string{"urn:loa:3", "gold"} })
	}},
	{"billing.pay CIBA channels and amount", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.pay", func(a *admin.ActionRule) {
			a.CIBAChannels, a.CIBAAmountAtLeast = []string{"kiosk"}, ptr(2500.5)
		})
	}},
	{"billing.pay CIBA threshold 0 and a binding message", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.pay", func(a *admin.ActionRule) { a.CIBAAmountAtLeast, a.CIBABindingHint = ptr(0.0), "PAY" })
	}},
	{"billing.pay without CIBA", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "billing.pay", func(a *admin.ActionRule) { a.CIBAChannels, a.CIBAAmountAtLeast = nil, nil })
	}},
	{"new action reports.export", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "reports.export", func(a *admin.ActionRule) {
			a.Description, a.MFA, a.MaxAge = "Export reports", true, ptr[int64](900)
		})
	}},
	{"new action with no requirements", func(r []admin.ActionRule) []admin.ActionRule {
		return edit(r, "docs.read", func(a *admin.ActionRule) { a.Description = "public docs" })
	}},
	{"profile.update removed", func(r []admin.ActionRule) []admin.ActionRule {
		return slices.DeleteFunc(slices.Clone(r), func(a admin.ActionRule) bool { return a.Name == "profile.update" })
	}},
	{"everything at once", func(r []admin.ActionRule) []admin.ActionRule {
		r = edit(r, "billing.view", func(a *admin.ActionRule) { a.MaxAge, a.MFA, a.AMRAny = ptr[int64](60), false, []string{"otp"} })
		r = edit(r, "billing.pay", func(a *admin.ActionRule) { a.MFA, a.ACRValues, a.FreshLogin = false, []string{"urn:loa:4"}, true })
		return edit(r, "profile.update", func(a *admin.ActionRule) { a.MaxAge, a.CIBAChannels = ptr[int64](3600), []string{"call_center"} })
	}},
}

// TestTableEditsKeepTheShippedTestsGreen applies each valid edit through
// WriteActions, as the admin table does, and runs the bundle's Rego tests:
// none may fail, and each edit must reach the saved table.
func TestTableEditsKeepTheShippedTestsGreen(t *testing.T) {
	files, rules := defaultTable(t)
	for _, tc := range tableEdits {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.fn(rules)
			next, err := admin.WriteActions(files, want)
			if err != nil {
				t.Fatalf("WriteActions: %v", err)
			}
			got, _, err := admin.ReadActions(next)
			if err != nil {
				t.Fatalf("ReadActions after the edit: %v", err)
			}
			slices.SortFunc(want, func(a, b admin.ActionRule) int { return strings.Compare(a.Name, b.Name) })
			if !equalRules(got, want) {
				t.Fatalf("saved table differs from the edit:\ngot  %+v\nwant %+v", got, want)
			}
			results, err := policies.RunTests(t.Context(), next.FS())
			if err != nil {
				t.Fatalf("RunTests: %v", err)
			}
			if len(results) == 0 {
				t.Fatal("no Rego tests ran")
			}
			for _, r := range results {
				if !r.Pass {
					t.Errorf("%s (%s) fails: %s %s", r.Name, r.Location, r.Output, r.Error)
				}
			}
		})
	}
}

func equalRules(a, b []admin.ActionRule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Description != y.Description || x.MFA != y.MFA || x.FreshLogin != y.FreshLogin ||
			!slices.Equal(x.AMRAny, y.AMRAny) || !slices.Equal(x.ACRValues, y.ACRValues) || !slices.Equal(x.CIBAChannels, y.CIBAChannels) ||
			x.CIBABindingHint != y.CIBABindingHint || !equalPtr(x.MaxAge, y.MaxAge) || !equalPtr(x.CIBAAmountAtLeast, y.CIBAAmountAtLeast) {
			return false
		}
	}
	return true
}

func equalPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// TestWriteActionsChangesOnlyTheEditedValue: a one-value change of the
// table is a one-line diff of data.json, and saving an unchanged table
// leaves the file byte for byte as it was.
func TestWriteActionsChangesOnlyTheEditedValue(t *testing.T) {
	files, rules := defaultTable(t)
	same, err := admin.WriteActions(files, rules)
	if err != nil {
		t.Fatal(err)
	}
	if string(same[admin.ActionsDataFile]) != string(files[admin.ActionsDataFile]) {
		t.Errorf("saving the unchanged table rewrote data.json:\n%s", same[admin.ActionsDataFile])
	}

	tests := []struct {
		name           string
		edit           func([]admin.ActionRule) []admin.ActionRule
		added, removed int
		wantLines      []string
	}{
		{"max_age", tableEdits[0].fn, 1, 1, []string{`      "max_age": 600`}},
		{"mfa removed", tableEdits[3].fn, 0, 1, nil},
		{"fresh_login added", tableEdits[6].fn, 2, 1, []string{`      "max_age": 900,`, `      "fresh_login": true`}},
		{"CIBA channels", func(r []admin.ActionRule) []admin.ActionRule {
			return edit(r, "billing.pay", func(a *admin.ActionRule) { a.CIBAChannels = []string{"pos"} })
		}, 1, 1, []string{`        "channels": ["pos"],`}},
		{"action removed", tableEdits[14].fn, 0, 5, nil},
		{"action added", tableEdits[12].fn, 5, 0, []string{`    "reports.export": {`, `      "description": "Export reports",`, `      "max_age": 900`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, err := admin.WriteActions(files, tc.edit(rules))
			if err != nil {
				t.Fatal(err)
			}
			d := admin.DiffFiles(files, next)
			if len(d) != 1 || d[0].Name != admin.ActionsDataFile {
				t.Fatalf("diff touches %d files, want data.json only", len(d))
			}
			if d[0].Added != tc.added || d[0].Removed != tc.removed {
				t.Errorf("diff +%d −%d, want +%d −%d:\n%s", d[0].Added, d[0].Removed, tc.added, tc.removed, next[admin.ActionsDataFile])
			}
			var added []string
			for _, l := range d[0].Lines {
				if l.Op == admin.DiffAdd {
					added = append(added, l.Text)
				}
			}
			for _, w := range tc.wantLines {
				if !slices.Contains(added, w) {
					t.Errorf("added lines %q lack %q", added, w)
				}
			}
		})
	}
}

// TestWriteActionsInStyle: files in other styles (inline objects, tabs, no
// table yet) are edited in their own style and stay valid JSON.
func TestWriteActionsInStyle(t *testing.T) {
	tests := []struct {
		name, src, want string
		rules           []admin.ActionRule
	}{
		{"inline entry", `{"actions": {"a": {"mfa": true}}, "settings": {"clock_skew": 5}}`,
			`{"actions": {"a": {"mfa": true, "max_age": 60}}, "settings": {"clock_skew": 5}}` + "\n",
			[]admin.ActionRule{{Name: "a", MFA: true, MaxAge: ptr[int64](60)}}},
		{"tabs", "{\n\t\"actions\": {\n\t\t\"a\": {\n\t\t\t\"mfa\": true\n\t\t}\n\t}\n}\n",
			"{\n\t\"actions\": {\n\t\t\"a\": {\n\t\t\t\"mfa\": true\n\t\t},\n\t\t\"b\": {\n\t\t\t\"max_age\": 1\n\t\t}\n\t}\n}\n",
			[]admin.ActionRule{{Name: "a", MFA: true}, {Name: "b", MaxAge: ptr[int64](1)}}},
		{"no actions yet", "{\n  \"settings\": {\"clock_skew\": 60}\n}\n",
			"{\n  \"settings\": {\"clock_skew\": 60},\n  \"actions\": {\n    \"a\": {\n      \"amr_any\": [\"hwk\"]\n    }\n  }\n}\n",
			[]admin.ActionRule{{Name: "a", AMRAny: []string{"hwk"}}}},
		{"first of two removed", "{\"actions\": {\n  \"a\": {},\n  \"b\": {}\n}}\n", "{\"actions\": {\n  \"b\": {}\n}}\n",
			[]admin.ActionRule{{Name: "b"}}},
		{"all removed", "{\"actions\": {\n  \"a\": {},\n  \"b\": {}\n}}\n", "{\"actions\": {}}\n", nil},
		{"false kept", `{"actions": {"a": {"mfa": false, "max_age": 5}}}` + "\n", `{"actions": {"a": {"mfa": false, "max_age": 6}}}` + "\n",
			[]admin.ActionRule{{Name: "a", MaxAge: ptr[int64](6)}}},
		{"no data file", "", "{\n  \"actions\": {\n    \"a\": {\n      \"mfa\": true\n    }\n  }\n}\n",
			[]admin.ActionRule{{Name: "a", MFA: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := policy.Files{"stepgate/policy.rego": []byte("package stepgate\n")}
			if tc.src != "" {
				files[admin.ActionsDataFile] = []byte(tc.src)
			}
			next, err := admin.WriteActions(files, tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(next[admin.ActionsDataFile]); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestSummarizeTables: the summary above the text diff names each change
// of the table in words.
func TestSummarizeTables(t *testing.T) {
	files, rules := defaultTable(t)
	r := edit(rules, "billing.view", func(a *admin.ActionRule) { a.MaxAge = ptr[int64](600) })
	r = edit(r, "billing.pay", func(a *admin.ActionRule) { a.MFA = false; a.CIBAChannels = []string{"pos"} })
	r = edit(r, "reports.export", func(a *admin.ActionRule) { a.MFA = true })
	r = slices.DeleteFunc(r, func(a admin.ActionRule) bool { return a.Name == "profile.update" })
	next, err := admin.WriteActions(files, r)
	if err != nil {
		t.Fatal(err)
	}
	changes, ok := admin.SummarizeTables(files, next)
	if !ok {
		t.Fatal("no summary")
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	want := []string{
		"billing.pay: mfa removed, ciba channels [call_center, pos] → [pos]",
		"billing.view: max_age 900 → 600",
		"profile.update removed",
		"reports.export added",
	}
	if !slices.Equal(got, want) {
		t.Errorf("summary\n%q\nwant\n%q", got, want)
	}
}

// TestDiffPutsDeletionsFirst: within a run of changes the removed lines
// come before the added ones, and hunks keep three lines of context.
func TestDiffPutsDeletionsFirst(t *testing.T) {
	a := policy.Files{"f": []byte("1\n2\n3\n4\n5\nold\n6\n7\n8\n9\n10\n11\n")}
	b := policy.Files{"f": []byte("1\n2\n3\n4\n5\nnew\nnewer\n6\n7\n8\n9\n10\n11\n")}
	d := admin.DiffFiles(a, b)
	if len(d) != 1 {
		t.Fatalf("%d file diffs", len(d))
	}
	var ops []string
	for _, l := range d[0].Lines {
		if l.Op != admin.DiffSame {
			ops = append(ops, string(l.Op)+" "+l.Text)
		}
	}
	if want := []string{"del old", "add new", "add newer"}; !slices.Equal(ops, want) {
		t.Errorf("changed lines %q, want %q", ops, want)
	}
	h := d[0].Hunks()
	if len(h) != 1 || h[0].Skipped != 2 || len(h[0].Lines) != 9 || h[0].Lines[0].Old != 3 {
		t.Errorf("hunks %+v, want one from line 3 with 2 skipped and 9 lines", h)
	}
}
