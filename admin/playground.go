package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/stepgate/stepgate/pdp/policy"
)

// FiredRule is a rule whose body succeeded while deciding one input.
type FiredRule struct {
	// Rule is the rule's reference, e.g. "data.stepgate.unmet".
	Rule string `json:"rule"`
	// File and Line locate the rule head in the bundle.
	File string `json:"file"`
	Line int    `json:"line"`
}

// PlaygroundResult is what a policy said about one input, and why.
type PlaygroundResult struct {
	Outcome      policy.Outcome      `json:"decision"`
	Reasons      []string            `json:"reasons"`
	Requirements policy.Requirements `json:"requirements"`
	// Error is set when the decision is a fail-closed deny.
	Error string      `json:"error,omitempty"`
	Fired []FiredRule `json:"fired"`
	// Input is the policy input that was decided: a decision API request
	// becomes one as the decision API would build it.
	Input *policy.Input `json:"input"`
}

// Playground decides in with the bundle files exactly as the engine would
// (the authoritative answer comes from comp), and traces a second
// evaluation to list the rules that fired.
func Playground(ctx context.Context, comp Compiler, files policy.Files, in *policy.Input) (*PlaygroundResult, error) {
	pol, err := comp.Compile(ctx, policy.Revision{Hash: files.Hash(), Files: files})
	if err != nil {
		return nil, err
	}
	res := pol.Eval(ctx, in)
	out := &PlaygroundResult{Outcome: res.Outcome, Reasons: res.Reasons, Requirements: res.Requirements, Input: in}
	if res.Err != nil {
		out.Error = res.Err.Error()
	}
	fired, err := traceRules(ctx, files, in)
	if err != nil {
		return nil, err
	}
	out.Fired = fired
	return out, nil
}

// traceRules evaluates the decision with OPA's tracer and collects the
// rules whose evaluation exited successfully.
func traceRules(ctx context.Context, files policy.Files, in *policy.Input) ([]FiredRule, error) {
	b, err := policy.LoadBundle(files.WithoutTests(), false)
	if err != nil {
		return nil, fmt.Errorf("trace: read bundle: %w", err)
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("trace: encode input: %w", err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("trace: decode input: %w", err)
	}
	tracer := topdown.NewBufferTracer()
	r := rego.New(rego.Query(policy.DecisionQuery), rego.ParsedBundle("stepgate", b), rego.Input(doc),
		rego.SetRegoVersion(ast.RegoV1), rego.QueryTracer(tracer))
	if _, err := r.Eval(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("trace: evaluate: %w", err)
	}
	seen := map[string]bool{}
	var out []FiredRule
	for _, ev := range *tracer {
		if ev.Op != topdown.ExitOp {
			continue
		}
		rule, ok := ev.Node.(*ast.Rule)
		if !ok || rule.Head == nil {
			continue
		}
		fr := FiredRule{Rule: rule.Module.Package.Path.String() + "." + rule.Head.Ref().String()}
		if loc := rule.Location; loc != nil {
			fr.File, fr.Line = strings.TrimPrefix(loc.File, "/"), loc.Row
		}
		key := fmt.Sprintf("%s@%s:%d", fr.Rule, fr.File, fr.Line)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, fr)
	}
	slices.SortFunc(out, func(a, b FiredRule) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return out, nil
}
