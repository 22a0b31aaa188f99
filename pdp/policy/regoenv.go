package policy

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// regoEnv is a revision's compiled modules and data, shared by every query
// prepared for it.
type regoEnv struct {
	compiler *ast.Compiler
	store    storage.Store
}

// newRegoEnv returns an empty environment: a fresh compiler and an
// in-memory store that keeps data as OPA values, so evaluation reads them
// without converting.
func newRegoEnv() regoEnv {
	return regoEnv{compiler: newRegoCompiler(),
		store: inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))}
}

// newRegoCompiler is the compiler rego.New would create for a query, made
// here so that further queries can share it.
func newRegoCompiler() *ast.Compiler {
	return ast.NewCompiler().
		WithDefaultRegoVersion(ast.RegoV1).
		WithUseTypeCheckAnnotations(true)
}

// activate writes b's data into the store, compiles its modules into the
// compiler, and prepares query against them.
func (e regoEnv) activate(ctx context.Context, query string, b *bundle.Bundle) (rego.PreparedEvalQuery, error) {
	txn, err := e.store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		return rego.PreparedEvalQuery{}, &CompileError{Err: fmt.Errorf("open policy store: %w", err)}
	}
	pq, err := rego.New(append(e.options(),
		rego.Query(query),
		rego.ParsedBundle("stepgate", b),
		rego.Transaction(txn),
	)...).PrepareForEval(ctx)
	if err != nil {
		e.store.Abort(ctx, txn)
		return rego.PreparedEvalQuery{}, compileError(err)
	}
	if err := e.store.Commit(ctx, txn); err != nil {
		return rego.PreparedEvalQuery{}, &CompileError{Err: fmt.Errorf("write policy store: %w", err)}
	}
	return pq, nil
}

// prepare compiles a further query against the revision's modules and data.
func (e regoEnv) prepare(ctx context.Context, query ast.Body) (rego.PreparedEvalQuery, error) {
	return rego.New(append(e.options(), rego.ParsedQuery(query))...).PrepareForEval(ctx)
}

// options are the rego options every query of the revision uses.
func (e regoEnv) options() []func(*rego.Rego) {
	return []func(*rego.Rego){
		rego.Compiler(e.compiler),
		rego.Store(e.store),
		rego.SetRegoVersion(ast.RegoV1),
		rego.StrictBuiltinErrors(false),
	}
}
