package policy

import (
	"context"
	"slices"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"
)

// maxSpecializedActions bounds how many action names one revision keeps a
// specialised query for (the most recently used ones); other names use the
// general query.
const maxSpecializedActions = 128

// maxSightedActions bounds how many action names seen once are remembered:
// a name gets a specialised query on its second decision, so that a client
// sending a new name with every request makes the engine build nothing.
const maxSightedActions = 1024

// warmActions is how many of the previous revision's action names a new
// revision specialises before it becomes active, so that the first
// decisions after an activation do not each pay for building a query.
const warmActions = 32

// specializeTimeout bounds building one action's specialised query.
const specializeTimeout = 2 * time.Second

// actionNameRef is the only part of the input an action-constant rule reads.
var actionNameRef = ast.MustParseRef("input.action.name")

// specializer evaluates a revision's decision query per action name with
// the rules that depend on the input only through input.action.name
// replaced by their values for that name (Rego's `with`), so that what a
// revision's data says about an action — its requirements, the validation
// of its table entry, the summary its reasons start with — is computed once
// per action instead of once per decision.
//
// Why the answer is the same. Rego is free of side effects, and this is
// only built for deterministic policies (policyIsDeterministic), so a rule's
// value is a function of the documents it reads. analyzePurity admits a
// document only when every rule defining it, with its else branches and
// everything it calls or references transitively, reads the input only at
// input.action.name or below it; and no rule of the policy uses `with`
// (compileForAnalysis), which could evaluate a document under another
// input. Its value for a given name is therefore the same
// for every input carrying that name; it is computed with an input that
// holds only the name and then substituted for that name only. Documents
// that are undefined for a name, or whose evaluation fails, are not
// substituted, so the general rules run for them as before. Anything that
// goes wrong while building a specialised query leaves the action on the
// general query.
//
// Memory stays bounded however many distinct names arrive: at most
// maxSpecializedActions queries (least recently used evicted; each compiles
// only its query against the revision's shared compiler and store) and
// maxSightedActions remembered names.
type specializer struct {
	env      regoEnv
	frontier []ast.Ref // documents substituted, in a fixed order
	values   rego.PreparedEvalQuery

	mu      sync.Mutex // serialises admitting names; lookups need no lock
	actions *lru.Cache[string, *specialized]
	sighted *lru.Cache[string, struct{}]
}

type specialized struct {
	once  sync.Once
	query *rego.PreparedEvalQuery // nil: use the general query
}

// compileForAnalysis compiles the modules of b for static analysis
// (specializer, inputReads), or returns nil when the policy is not
// deterministic or uses `with` anywhere: a `with` could evaluate a rule
// under another input or data (name with input as {...}), which neither
// analysis models.
func compileForAnalysis(b *bundle.Bundle) *ast.Compiler {
	if !policyIsDeterministic(b) {
		return nil
	}
	modules := make(map[string]*ast.Module, len(b.Modules))
	for _, m := range b.Modules {
		if m.Parsed == nil {
			return nil
		}
		modules[m.Path] = m.Parsed.Copy()
	}
	for _, m := range modules {
		usesWith := false
		ast.WalkExprs(m, func(e *ast.Expr) bool {
			usesWith = usesWith || len(e.With) > 0
			return usesWith
		})
		if usesWith {
			return nil
		}
	}
	c := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	c.Compile(modules)
	if c.Failed() {
		return nil
	}
	return c
}

// newSpecializer returns a specializer for the default decision query of the
// revision in env (its modules compiled as c by compileForAnalysis), or nil
// when there is nothing to specialise.
func newSpecializer(ctx context.Context, env regoEnv, c *ast.Compiler) *specializer {
	if c == nil {
		return nil
	}
	frontier := actionConstantFrontier(c, ast.MustParseRef(DecisionQuery))
	if len(frontier) == 0 {
		return nil
	}
	// One query yields every frontier document as a set holding its value,
	// or an empty set when it is undefined for the action.
	items := make([]*ast.Term, len(frontier))
	for i, ref := range frontier {
		v := ast.VarTerm("__sg_v")
		items[i] = ast.SetComprehensionTerm(v, ast.NewBody(ast.Equality.Expr(v, ast.NewTerm(ref))))
	}
	query := ast.NewBody(ast.Equality.Expr(ast.VarTerm("__sg_values"), ast.ArrayTerm(items...)))
	pq, err := env.prepare(ctx, query)
	if err != nil {
		return nil
	}
	actions, err := lru.New[string, *specialized](maxSpecializedActions)
	if err != nil {
		return nil
	}
	sighted, err := lru.New[string, struct{}](maxSightedActions)
	if err != nil {
		return nil
	}
	return &specializer{env: env, frontier: frontier, values: pq, actions: actions, sighted: sighted}
}

// query returns the specialised decision query for action, building it on
// its second use, or nil when the general query must be used.
func (s *specializer) query(ctx context.Context, action string) *rego.PreparedEvalQuery {
	if s == nil {
		return nil
	}
	e, ok := s.actions.Get(action)
	if !ok {
		if e = s.admit(action, false); e == nil {
			return nil
		}
	}
	return s.built(ctx, action, e)
}

// admit returns the entry for action, creating it when the name was seen
// before (or at once with now); nil means "remembered, use the general
// query this time".
func (s *specializer) admit(action string, now bool) *specialized {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.actions.Peek(action); ok {
		return e
	}
	if !now && !s.sighted.Contains(action) {
		s.sighted.Add(action, struct{}{})
		return nil
	}
	s.sighted.Remove(action)
	e := &specialized{}
	s.actions.Add(action, e)
	return e
}

func (s *specializer) built(ctx context.Context, action string, e *specialized) *rego.PreparedEvalQuery {
	e.once.Do(func() {
		// The first decision's deadline must not cut a build that every
		// later decision for this action relies on.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), specializeTimeout)
		defer cancel()
		e.query = s.build(bctx, action)
	})
	return e.query
}

// sizes reports how many specialised entries and sighted names s holds.
func (s *specializer) sizes() (specialised, sighted int) {
	if s == nil {
		return 0, 0
	}
	return s.actions.Len(), s.sighted.Len()
}

// warm builds the specialised queries of the warmActions names prev (the
// revision being replaced) used most recently.
func (s *specializer) warm(ctx context.Context, prev *specializer) {
	if s == nil || prev == nil {
		return
	}
	names := prev.actions.Keys() // oldest first
	names = append(names, prev.sighted.Keys()...)
	slices.Reverse(names)
	for _, n := range names[:min(len(names), warmActions)] {
		s.built(ctx, n, s.admit(n, true))
	}
}

// build computes the frontier documents for action and prepares the
// decision query with them substituted.
func (s *specializer) build(ctx context.Context, action string) *rego.PreparedEvalQuery {
	input := ast.NewObject(ast.Item(ast.InternedTerm("action"), ast.ObjectTerm(
		ast.Item(ast.InternedTerm("name"), ast.StringTerm(action)),
	)))
	rs, err := s.values.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil || len(rs) != 1 {
		return nil
	}
	arr, ok := rs[0].Bindings["__sg_values"].([]any)
	if !ok || len(arr) != len(s.frontier) {
		return nil
	}
	var withs []*ast.With
	for i, ref := range s.frontier {
		set, ok := arr[i].([]any) // a set comes back as a slice
		if !ok || len(set) != 1 {
			continue // undefined for this action: the rules run as usual
		}
		v, err := ast.InterfaceToValue(set[0])
		if err != nil {
			return nil
		}
		withs = append(withs, &ast.With{Target: ast.NewTerm(ref), Value: ast.NewTerm(v)})
	}
	if len(withs) == 0 {
		return nil
	}
	expr := ast.NewExpr(ast.NewTerm(ast.MustParseRef(DecisionQuery)))
	expr.With = withs
	pq, err := s.env.prepare(ctx, ast.NewBody(expr))
	if err != nil {
		return nil
	}
	return &pq
}

// actionConstantFrontier returns the documents worth substituting for the
// query at root: those that depend on the input only through
// input.action.name (see purity) and are referenced directly by a rule
// that does not, so that substituting them removes work from every
// decision. Functions and documents with variables in their path are left
// out: `with` would have to replace them by something other than a value.
func actionConstantFrontier(c *ast.Compiler, root ast.Ref) []ast.Ref {
	p := &purity{c: c, memo: map[*ast.Rule]bool{}, busy: map[*ast.Rule]bool{}}
	seen := map[string]bool{}
	var frontier []ast.Ref
	consider := func(ref ast.Ref) {
		rules := c.GetRulesDynamicWithOpts(ref, ast.RulesOptions{IncludeHiddenModules: true})
		if len(rules) == 0 {
			return
		}
		path := rules[0].Path()
		if !path.IsGround() || seen[path.String()] {
			return
		}
		for _, r := range rules {
			if !r.Path().Equal(path) || len(r.Head.Args) > 0 || !p.pure(r) {
				return
			}
		}
		seen[path.String()] = true
		frontier = append(frontier, path)
	}
	// Walk the impure rules and the functions reachable from root and
	// collect their pure, substitutable dependencies.
	visited := map[*ast.Rule]bool{}
	var visit func(r *ast.Rule)
	visit = func(r *ast.Rule) {
		if visited[r] {
			return
		}
		visited[r] = true
		if len(r.Head.Args) == 0 && p.pure(r) {
			return // reached through consider, or not at all
		}
		// An impure rule, or a function (pure or not): what it reads may
		// be worth substituting.
		for _, ref := range dataRefs(r) {
			consider(ref)
			for _, dep := range c.GetRulesDynamicWithOpts(ref, ast.RulesOptions{IncludeHiddenModules: true}) {
				visit(dep)
			}
		}
	}
	for _, r := range c.GetRulesDynamicWithOpts(root, ast.RulesOptions{IncludeHiddenModules: true}) {
		visit(r)
	}
	slices.SortFunc(frontier, func(a, b ast.Ref) int { return a.Compare(b) })
	return frontier
}

// purity decides, per rule, whether its value depends on the input only
// through input.action.name.
type purity struct {
	c    *ast.Compiler
	memo map[*ast.Rule]bool
	busy map[*ast.Rule]bool
}

func (p *purity) pure(r *ast.Rule) bool {
	if v, ok := p.memo[r]; ok {
		return v
	}
	if p.busy[r] {
		return false // a cycle through dynamic references: be conservative
	}
	p.busy[r] = true
	ok := p.check(r)
	delete(p.busy, r)
	p.memo[r] = ok
	return ok
}

// check looks at r with its else branches: every input reference must lie
// under input.action.name, no expression may use `with`, and every rule it
// references or calls must be pure as well.
func (p *purity) check(r *ast.Rule) bool {
	ok := true
	ast.WalkExprs(r, func(e *ast.Expr) bool {
		if len(e.With) > 0 {
			ok = false
		}
		return !ok
	})
	if !ok {
		return false
	}
	var visit func(t *ast.Term) bool
	visit = func(t *ast.Term) bool {
		if !ok {
			return true
		}
		switch v := t.Value.(type) {
		case ast.Var:
			if v.Equal(ast.InputRootDocument.Value) {
				ok = false // the whole input, not inside a reference
			}
		case ast.Ref:
			switch {
			case v[0].Equal(ast.InputRootDocument):
				if !v.HasPrefix(actionNameRef) {
					ok = false
					return true
				}
			case v[0].Equal(ast.DefaultRootDocument):
				for _, dep := range p.c.GetRulesDynamicWithOpts(v, ast.RulesOptions{IncludeHiddenModules: true}) {
					if !p.pure(dep) {
						ok = false
						return true
					}
				}
			}
			for _, part := range v[1:] {
				ast.WalkTerms(part, visit)
			}
			return true
		}
		return false
	}
	ast.WalkTerms(r, visit)
	return ok
}

// dataRefs lists the references into data that r (with its else branches)
// makes, including user function calls.
func dataRefs(r *ast.Rule) []ast.Ref {
	var out []ast.Ref
	ast.WalkRefs(r, func(ref ast.Ref) bool {
		if ref[0].Equal(ast.DefaultRootDocument) {
			out = append(out, ref)
		}
		return false
	})
	return out
}
