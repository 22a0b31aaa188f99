package policies_test

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"github.com/stepgate/stepgate/policies"
)

// TestBundleIsFormatted keeps the shipped Rego in `opa fmt` (Rego v1) style,
// so that an admin who exports, edits and re-imports it sees only their own
// changes in the revision diff.
func TestBundleIsFormatted(t *testing.T) {
	fsys := policies.Bundle()
	names, err := fs.Glob(fsys, "*/*.rego")
	if err != nil {
		t.Fatalf("list bundle modules: %v", err)
	}
	if len(names) == 0 {
		t.Fatal("the default bundle has no Rego modules")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			src, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			want, err := format.SourceWithOpts(name, src, format.Opts{RegoVersion: ast.RegoV1})
			if err != nil {
				t.Fatalf("format: %v", err)
			}
			if string(want) != string(src) {
				t.Errorf("%s is not opa fmt clean; formatted it reads:\n%s", name, firstDifference(string(src), string(want)))
			}
		})
	}
}

// firstDifference shows the formatted text from the first line that differs.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range w {
		if i >= len(g) || g[i] != w[i] {
			end := min(i+5, len(w))
			return strings.Join(w[i:end], "\n")
		}
	}
	return "(formatted text is a prefix of the file)"
}
