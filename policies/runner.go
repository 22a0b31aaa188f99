package policies

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/stepgate/stepgate/pdp/policy"
)

// testTimeout bounds a single Rego test so a runaway policy cannot hang the
// CLI or an admin request.
const testTimeout = 5 * time.Second

// TestResult is the outcome of one Rego test rule.
type TestResult struct {
	// Package is the Rego package of the test, e.g. "data.stepgate_test".
	Package string `json:"package"`
	// Name is the test rule's name, e.g. "test_billing_view_fresh_mfa_allows".
	Name string `json:"name"`
	// Location is "file:line" of the test rule inside the bundle.
	Location string `json:"location"`
	// Pass is true when the test evaluated to true.
	Pass bool `json:"pass"`
	// Fail is true when the test was undefined or false.
	Fail bool `json:"fail"`
	// Skip is true for tests named todo_*, which OPA reports but never runs.
	Skip bool `json:"skip,omitempty"`
	// Error is the evaluation error (e.g. a conflict or a timeout), if any.
	Error string `json:"error,omitempty"`
	// Output is what the test printed (print), which is how a test says
	// what it expected and what it got: the default bundle's tests print
	// "WHAT: expected X, got Y" before they fail.
	Output string `json:"output,omitempty"`
	// Duration is how long the test took to evaluate.
	Duration time.Duration `json:"duration"`
}

// RunTests loads every Rego module (tests included) and every data.json /
// data.yaml document of the bundle in fsys, the way OPA's bundle reader does,
// and runs the bundle's Rego unit tests with OPA's tester (Rego v1 syntax).
// Results are sorted by package and name. A bundle that does not parse or
// compile yields an error that names the file and line; a failing test is not
// an error, it is a TestResult with Fail or Error set.
func RunTests(ctx context.Context, fsys fs.FS) ([]TestResult, error) {
	b, err := readBundle(fsys)
	if err != nil {
		return nil, err
	}

	store := inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false))
	txn, err := store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		return nil, fmt.Errorf("policies: open test store: %w", err)
	}
	defer store.Abort(ctx, txn)

	compiler := ast.NewCompiler().
		WithCapabilities(ast.CapabilitiesForThisVersion()).
		WithDefaultRegoVersion(ast.RegoV1).
		WithEnablePrintStatements(true).
		WithPathConflictsCheck(storage.NonEmpty(ctx, store, txn))

	runner := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(store).
		SetDefaultRegoVersion(ast.RegoV1).
		SetBundles(map[string]*bundle.Bundle{"bundle": b}).
		CapturePrintOutput(true).
		SetTimeout(testTimeout)

	ch, err := runner.RunTests(ctx, txn)
	if err != nil {
		return nil, fmt.Errorf("policies: compile bundle: %w", err)
	}

	var results []TestResult
	for r := range ch {
		results = append(results, convertResult(r))
	}
	if err := ctx.Err(); err != nil {
		return results, fmt.Errorf("policies: run tests: %w", err)
	}
	slices.SortFunc(results, func(a, b TestResult) int {
		return cmp.Or(cmp.Compare(a.Package, b.Package), cmp.Compare(a.Name, b.Name))
	})
	return results, nil
}

// readBundle reads fsys the way the engine reads a revision
// (policy.LoadBundle), so tests see exactly the modules and data documents
// the engine will see, plus the test modules, with METADATA annotations
// processed as `opa test` does.
func readBundle(fsys fs.FS) (*bundle.Bundle, error) {
	if fsys == nil {
		return nil, errors.New("policies: read bundle: no file system")
	}
	files, err := policy.ReadFS(fsys)
	if err != nil {
		return nil, fmt.Errorf("policies: read bundle: %w", err)
	}
	b, err := policy.LoadBundle(files, true)
	if err != nil {
		return nil, fmt.Errorf("policies: read bundle: %w", err)
	}
	return b, nil
}

func convertResult(r *tester.Result) TestResult {
	tr := TestResult{
		Package:  r.Package,
		Name:     r.Name,
		Pass:     r.Pass(),
		Fail:     r.Fail,
		Skip:     r.Skip,
		Duration: r.Duration,
		Output:   strings.TrimSpace(string(r.Output)),
	}
	if r.Location != nil {
		// The bundle reader names files "/stepgate/x.rego"; show them as
		// the fs.FS path the caller knows.
		tr.Location = fmt.Sprintf("%s:%d", strings.TrimPrefix(r.Location.File, "/"), r.Location.Row)
	}
	if r.Error != nil {
		tr.Error = r.Error.Error()
	}
	return tr
}
