package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"
)

// DecisionQuery is the policy entrypoint every revision must define.
const DecisionQuery = "data.stepgate.decision"

// Revision identifies a policy bundle by its store id and content hash.
type Revision struct {
	ID    int64
	Hash  string
	Files Files
}

// CompileIssue is one compile error at a position in a module.
type CompileIssue struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
	// Code is OPA's error code, e.g. rego_parse_error.
	Code string `json:"code,omitempty"`
}

// CompileError reports why a bundle did not compile, with positions so an
// editor can show each problem at its line.
type CompileError struct {
	Issues []CompileIssue
	Err    error
}

func (e *CompileError) Error() string {
	if len(e.Issues) == 0 {
		return fmt.Sprintf("compile policy: %v", e.Err)
	}
	i := e.Issues[0]
	more := ""
	if len(e.Issues) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(e.Issues)-1)
	}
	code := ""
	if i.Code != "" {
		code = i.Code + ": "
	}
	return fmt.Sprintf("compile policy: %s:%d:%d: %s%s%s", i.File, i.Line, i.Column, code, i.Message, more)
}

func (e *CompileError) Unwrap() error { return e.Err }

// Policy is one compiled revision, ready to evaluate concurrently.
// It is immutable; the Engine swaps whole Policies.
type Policy struct {
	rev      int64
	hash     string
	query    rego.PreparedEvalQuery
	timeout  time.Duration
	compiled time.Time
	cache    *decisionCache // nil: results are not cached
	spec     *specializer   // nil: every decision uses query
	reads    inputField     // the input fields the policy can observe
	// readsCIBA: the policy can observe subject.authn.ciba_capable.
	readsCIBA bool
}

// Revision returns the revision id and content hash the policy was built from.
func (p *Policy) Revision() (int64, string) { return p.rev, p.hash }

// CompileOptions tune Compile. Zero values take the defaults.
type CompileOptions struct {
	// Timeout is the per-decision evaluation deadline; default 500ms.
	Timeout time.Duration
	// Query overrides DecisionQuery (used by tests and AuthZEN search).
	Query string
	// DecisionCacheSize is how many results Eval memoises per revision;
	// 0 means DefaultDecisionCacheSize, negative disables the cache.
	DecisionCacheSize int
	// NoSpecialization evaluates every decision with the general query
	// instead of per-action specialised ones (see specializer) and with
	// the whole input instead of the fields the policy reads (see
	// inputReadsOf); tests use it to compare the two.
	NoSpecialization bool
}

// Compile parses and compiles a bundle into a prepared query. Test modules
// (_test.rego) are left out. Rego is prepared here, once, never per request.
func Compile(ctx context.Context, rev Revision, opts CompileOptions) (*Policy, error) {
	if err := rev.Files.Validate(); err != nil {
		return nil, &CompileError{Err: err}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 500 * time.Millisecond
	}
	if opts.Query == "" {
		opts.Query = DecisionQuery
	}
	specialize := opts.Query == DecisionQuery && !opts.NoSpecialization
	b, err := loadBundle(rev.Files.without(IsTestModule))
	if err != nil {
		return nil, err
	}
	// One compiler and one store per revision: the decision query, and the
	// per-action queries the specializer prepares later, compile only
	// their query against them instead of the whole bundle and a copy of
	// its data each.
	env := newRegoEnv()
	pq, err := env.activate(ctx, opts.Query, b)
	if err != nil {
		return nil, err
	}
	pol := &Policy{rev: rev.ID, hash: rev.Hash, query: pq, timeout: opts.Timeout, compiled: time.Now(),
		cache: newDecisionCache(b, opts.DecisionCacheSize), reads: readAll, readsCIBA: true}
	if specialize {
		if c := compileForAnalysis(b); c != nil {
			pol.spec = newSpecializer(ctx, env, c)
			pol.reads = inputReadsOf(c)
			pol.readsCIBA = observesPath(c, cibaCapablePath)
			if pol.cache != nil {
				pol.cache.reads = pol.reads
				pol.cache.clockless = !observesClock(c)
			}
		}
	}
	return pol, nil
}

// loadBundle is LoadBundle for compiling: METADATA annotations are not
// processed (the engine has no use for them).
func loadBundle(files Files) (*bundle.Bundle, error) { return LoadBundle(files, false) }

// LoadBundle turns files into an OPA bundle through OPA's own reader, so
// data placement, manifests and YAML follow `opa build` exactly. It is the
// one way stepgate loads bundles: for compiling a revision, for its Rego
// tests (annotations processed, as `opa test` does) and for the admin UI's
// rule trace. A bundle that does not parse is a *CompileError naming the
// file and line.
func LoadBundle(files Files, annotations bool) (*bundle.Bundle, error) {
	tgz, err := files.Tarball()
	if err != nil {
		return nil, &CompileError{Err: err}
	}
	b, err := bundle.NewReader(bytes.NewReader(tgz)).
		WithRegoVersion(ast.RegoV1).
		WithProcessAnnotations(annotations).
		WithSkipBundleVerification(true).
		Read()
	if err != nil {
		return nil, compileError(err)
	}
	return &b, nil
}

// WithoutTests returns the files minus the Rego test modules: what a
// revision decides with.
func (f Files) WithoutTests() Files {
	out := make(Files, len(f))
	for n, b := range f {
		if !IsTestModule(n) {
			out[n] = b
		}
	}
	return out
}

// compileError extracts positions from OPA's ast errors.
func compileError(err error) error {
	ce := &CompileError{Err: err}
	var errs ast.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			ce.Issues = append(ce.Issues, astIssue(e))
		}
		return ce
	}
	var one *ast.Error
	if errors.As(err, &one) {
		ce.Issues = append(ce.Issues, astIssue(one))
	}
	return ce
}

func astIssue(e *ast.Error) CompileIssue {
	ci := CompileIssue{Message: e.Message, Code: e.Code}
	if e.Location != nil {
		ci.File = trimBundlePath(e.Location.File)
		ci.Line = e.Location.Row
		ci.Column = e.Location.Col
	}
	return ci
}

func trimBundlePath(f string) string {
	for len(f) > 0 && f[0] == '/' {
		f = f[1:]
	}
	return f
}

// Eval evaluates the policy for one input. It never returns an error: every
// failure (evaluation error, timeout, panic, undefined or malformed result)
// is a deny whose reasons say what went wrong, and Result.Err keeps the
// cause for logs and metrics.
func (p *Policy) Eval(ctx context.Context, in *Input) (res Result) {
	keys, cached, hit := p.cache.lookup(in)
	if hit {
		return cached
	}
	res.Revision, res.Hash = p.rev, p.hash
	defer func() {
		if r := recover(); r != nil {
			res = failClosed(p, fmt.Errorf("policy evaluation panicked: %v\n%s", r, debug.Stack()), "internal error while evaluating the policy")
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	input, err := in.astValue(p.reads)
	if err != nil {
		return failClosed(p, err, "policy input could not be built")
	}
	query := &p.query
	if q := p.spec.query(ctx, in.Action.Name); q != nil {
		query = q
	}
	rs, err := query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		if ctx.Err() != nil {
			return failClosed(p, fmt.Errorf("policy evaluation: %w", ctx.Err()), "policy evaluation exceeded its deadline")
		}
		return failClosed(p, fmt.Errorf("policy evaluation: %w", err), "policy evaluation failed")
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return failClosed(p, ErrUndefinedDecision, "policy produced no decision")
	}
	out, err := parseResult(rs[0].Expressions[0].Value)
	if err != nil {
		return failClosed(p, err, "policy produced a malformed decision: "+err.Error())
	}
	out.Revision, out.Hash = p.rev, p.hash
	p.cache.store(keys, in, out)
	return out
}

func failClosed(p *Policy, err error, reason string) Result {
	return Result{Outcome: Deny, Reasons: []string{reason}, Revision: p.rev, Hash: p.hash, Err: err}
}
