package policies

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// embedded holds the default bundle; go:embed needs a package-level variable.
//
//go:embed bundle
var embedded embed.FS

// bundleRoot is the directory inside embedded that is the bundle's root.
const bundleRoot = "bundle"

// Bundle returns the default policy bundle in OPA bundle layout, rooted at
// the bundle directory: the Rego modules are at "stepgate/*.rego" (package
// stepgate), the per-action data at "stepgate/data.json" (data.stepgate).
// The Rego unit tests sit next to the modules; see IsTestFile.
func Bundle() fs.FS {
	sub, err := fs.Sub(embedded, bundleRoot)
	if err != nil {
		// fs.Sub fails only for an invalid path, and bundleRoot is a
		// constant valid one: this is a build defect, not a runtime error.
		panic(fmt.Sprintf("policies: open embedded bundle: %v", err))
	}
	return sub
}

// IsTestFile reports whether name (a bundle path such as
// "stepgate/policy_test.rego") is a Rego unit-test module. The decision
// engine skips these when it loads a bundle; RunTests loads them.
func IsTestFile(name string) bool {
	return strings.HasSuffix(path.Base(strings.ReplaceAll(name, "\\", "/")), "_test.rego")
}
