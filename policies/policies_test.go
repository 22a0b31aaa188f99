package policies_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/policies"
)

func TestDefaultBundleRegoTests(t *testing.T) {
	results, err := policies.RunTests(t.Context(), policies.Bundle())
	if err != nil {
		t.Fatalf("RunTests(Bundle()): %v", err)
	}
	if len(results) == 0 {
		t.Fatal("the default bundle has no Rego tests")
	}
	passed := 0
	for _, r := range results {
		if r.Pass {
			passed++
			continue
		}
		t.Errorf("Rego test %s.%s at %s: fail=%v skip=%v error=%q", r.Package, r.Name, r.Location, r.Fail, r.Skip, r.Error)
	}
	t.Logf("%d of %d Rego tests passed", passed, len(results))
}

func TestBundleLayout(t *testing.T) {
	fsys := policies.Bundle()
	for _, name := range []string{"stepgate/policy.rego", "stepgate/data.json", "stepgate/policy_test.rego"} {
		if _, err := fs.Stat(fsys, name); err != nil {
			t.Errorf("Bundle() lacks %s: %v", name, err)
		}
	}

	raw, err := fs.ReadFile(fsys, "stepgate/data.json")
	if err != nil {
		t.Fatalf("read data.json: %v", err)
	}
	var doc struct {
		Settings struct {
			ClockSkew *float64 `json:"clock_skew"`
		} `json:"settings"`
		Actions map[string]map[string]any `json:"actions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse data.json: %v", err)
	}
	if doc.Settings.ClockSkew == nil || *doc.Settings.ClockSkew != 60 {
		t.Errorf("settings.clock_skew = %v, want 60", doc.Settings.ClockSkew)
	}
	for _, action := range []string{"billing.view", "billing.pay", "profile.update"} {
		if _, ok := doc.Actions[action]; !ok {
			t.Errorf("data.json has no entry for %s", action)
		}
	}
}

func TestIsTestFile(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{name: "stepgate/policy_test.rego", want: true},
		{name: "/stepgate/data_test.rego", want: true},
		{name: `stepgate\windows_test.rego`, want: true},
		{name: "policy_test.rego", want: true},
		{name: "stepgate/policy.rego", want: false},
		{name: "stepgate/test.rego", want: false},
		{name: "stepgate/policy_test.rego.bak", want: false},
		{name: "stepgate/data.json", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := policies.IsTestFile(tc.name); got != tc.want {
				t.Errorf("IsTestFile(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// writeBundle writes files (path → content) under a fresh directory and
// returns it as an fs.FS, the way `stepgate policy test DIR` sees a bundle.
func writeBundle(tb testing.TB, files map[string]string) fs.FS {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatalf("mkdir for %s: %v", name, err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			tb.Fatalf("write %s: %v", name, err)
		}
	}
	return os.DirFS(dir)
}

const limitPolicy = `package demo

allow if input.amount <= data.demo.limit
`

func TestRunTestsReportsEachTest(t *testing.T) {
	fsys := writeBundle(t, map[string]string{
		"demo/policy.rego": limitPolicy,
		"demo/data.yaml":   "limit: 10\n",
		"demo/policy_test.rego": `package demo_test

test_small_amount_allowed if data.demo.allow with input as {"amount": 5}

test_large_amount_allowed if data.demo.allow with input as {"amount": 50}

conflict := 1 if input.amount
conflict := 2 if input.amount

test_broken if conflict with input as {"amount": 1}

todo_test_later if false
`,
	})

	results, err := policies.RunTests(t.Context(), fsys)
	if err != nil {
		t.Fatalf("RunTests: %v", err)
	}
	got := map[string]policies.TestResult{}
	for _, r := range results {
		got[r.Name] = r
	}
	tests := []struct {
		name                 string
		pass, fail, skip     bool
		errorMentions        string
		wantLocationFragment string
	}{
		{name: "test_small_amount_allowed", pass: true, wantLocationFragment: "demo/policy_test.rego:3"},
		{name: "test_large_amount_allowed", fail: true, wantLocationFragment: "demo/policy_test.rego:5"},
		{name: "test_broken", errorMentions: "eval_conflict_error", wantLocationFragment: "demo/policy_test.rego:10"},
		{name: "todo_test_later", skip: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := got[tc.name]
			if !ok {
				t.Fatalf("no result for %s; got %+v", tc.name, results)
			}
			if r.Package != "data.demo_test" {
				t.Errorf("Package = %q, want data.demo_test", r.Package)
			}
			if r.Pass != tc.pass || r.Fail != tc.fail || r.Skip != tc.skip {
				t.Errorf("pass/fail/skip = %v/%v/%v, want %v/%v/%v", r.Pass, r.Fail, r.Skip, tc.pass, tc.fail, tc.skip)
			}
			if tc.errorMentions == "" && r.Error != "" {
				t.Errorf("Error = %q, want none", r.Error)
			}
			if tc.errorMentions != "" && !strings.Contains(r.Error, tc.errorMentions) {
				t.Errorf("Error = %q, want it to mention %q", r.Error, tc.errorMentions)
			}
			if !strings.Contains(r.Location, tc.wantLocationFragment) {
				t.Errorf("Location = %q, want it to contain %q", r.Location, tc.wantLocationFragment)
			}
		})
	}
	if len(results) != len(tests) {
		t.Errorf("got %d results, want %d: %+v", len(results), len(tests), results)
	}
}

func TestRunTestsRejectsBrokenBundles(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "syntax error",
			files: map[string]string{
				"demo/policy.rego": "package demo\n\nallow if {\n\tinput.x ==\n}\n",
			},
			want: []string{"demo/policy.rego:5", "rego_parse_error"},
		},
		{
			name: "syntax error in a test module",
			files: map[string]string{
				"demo/policy.rego":      limitPolicy,
				"demo/policy_test.rego": "package demo_test\n\ntest_x if input.a = = 1\n",
			},
			want: []string{"demo/policy_test.rego:3", "rego_parse_error"},
		},
		{
			name: "rego v0 syntax",
			files: map[string]string{
				"demo/policy.rego": "package demo\n\nallow { input.x }\n",
			},
			want: []string{"demo/policy.rego:3", "rego_parse_error"},
		},
		{
			name: "unsafe variable",
			files: map[string]string{
				"demo/policy.rego": "package demo\n\nallow if {\n\tx == input.y\n}\n",
			},
			want: []string{"demo/policy.rego:4", "rego_unsafe_var_error"},
		},
		{
			name: "rule conflicts with data",
			files: map[string]string{
				"demo/policy.rego": "package demo\n\nlimit := 3\n",
				"demo/data.json":   `{"limit": 10}`,
			},
			want: []string{"demo/policy.rego:3", "limit"},
		},
		{
			name: "malformed data.json",
			files: map[string]string{
				"demo/policy.rego": limitPolicy,
				"demo/data.json":   `{"limit": `,
			},
			want: []string{"demo/data.json"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			results, err := policies.RunTests(t.Context(), writeBundle(t, tc.files))
			if err == nil {
				t.Fatalf("RunTests succeeded with %+v, want an error", results)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestRunTestsHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := policies.RunTests(ctx, policies.Bundle()); err == nil {
		t.Fatal("RunTests with a cancelled context succeeded, want an error")
	}
}

func TestRunTestsWithoutFileSystem(t *testing.T) {
	if _, err := policies.RunTests(t.Context(), nil); err == nil {
		t.Fatal("RunTests(nil) succeeded, want an error")
	}
}
