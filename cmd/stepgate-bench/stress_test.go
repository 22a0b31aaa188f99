package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/policies"
)

// TestSwapRevisionActivates: the swap workload's revisions pass the shipped
// Rego tests, so `policy push --activate` accepts them (a rewritten data
// document once dropped profile.update's fresh_login and every push failed).
func TestSwapRevisionActivates(t *testing.T) {
	dir := t.TempDir()
	if err := writeSwapBundle(dir, 7); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dir + "/stepgate/data.json")
	if err != nil || !strings.Contains(string(data), `"revision 7"`) {
		t.Fatalf("data.json does not name the revision: %s %v", data, err)
	}
	results, err := policies.RunTests(t.Context(), os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.Pass && !r.Skip {
			t.Errorf("%s.%s fails on the swap revision: %s", r.Package, r.Name, r.Error)
		}
	}
	if len(results) == 0 {
		t.Fatal("no Rego tests ran")
	}
}
