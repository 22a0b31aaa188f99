package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyPushWarnsWithoutTests: a bundle with no Rego tests is accepted,
// but `policy push` and `policy test` say so.
func TestPolicyPushWarnsWithoutTests(t *testing.T) {
	e := testEnv(t)
	dir := bundleDir(t, nil)
	tests, err := filepath.Glob(filepath.Join(dir, "stepgate", "*_test.rego"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("the default bundle has no test files to remove: %v", err)
	}
	for _, f := range tests {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	out, err := cli(t, e, "policy", "push", dir, "-m", "no tests")
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	if !strings.Contains(out, "WARNING: this bundle has no Rego tests") || !strings.Contains(out, "stored (draft)") {
		t.Errorf("push of a bundle without tests does not warn, or was not stored:\n%s", out)
	}
	out, err = cli(t, e, "policy", "test", dir)
	if err != nil || !strings.Contains(out, "WARNING: this bundle has no Rego tests") {
		t.Errorf("policy test without tests: %v\n%s", err, out)
	}
	with, err := cli(t, e, "policy", "push", bundleDir(t, nil), "-m", "with tests")
	if err != nil || strings.Contains(with, "WARNING") {
		t.Errorf("push of the default bundle warns or fails: %v\n%s", err, with)
	}
}
