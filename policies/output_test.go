package policies_test

import (
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
)

// TestFailingTestSaysWhatItExpected: when the policy's reason text changes,
// the default bundle's tests fail with "expected …, got …" in Output, which
// the CLI and the admin UI show next to the failure.
func TestFailingTestSaysWhatItExpected(t *testing.T) {
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	const rego = "stepgate/requirements.rego"
	src := string(files[rego])
	if !strings.Contains(src, `" within %vs"`) {
		t.Fatalf("%s no longer says \" within %%vs\"; adjust this test", rego)
	}
	files[rego] = []byte(strings.Replace(src, `" within %vs"`, `" inside %vs"`, 1))
	results, err := policies.RunTests(t.Context(), files.FS())
	if err != nil {
		t.Fatal(err)
	}
	var failed *policies.TestResult
	for i, r := range results {
		if r.Name == "test_billing_view_fresh_mfa_allows" {
			failed = &results[i]
		}
	}
	if failed == nil || failed.Pass {
		t.Fatalf("test_billing_view_fresh_mfa_allows did not fail: %+v", failed)
	}
	for _, want := range []string{"expected", "billing.view needs amr mfa within 900s; requirements met", "got", "billing.view needs amr mfa inside 900s; requirements met"} {
		if !strings.Contains(failed.Output, want) {
			t.Errorf("output %q lacks %q", failed.Output, want)
		}
	}
}
