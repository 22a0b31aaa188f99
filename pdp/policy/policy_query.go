package policy

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/open-policy-agent/opa/v1/rego"
)

// ErrPolicyQuery is wrapped by every failure of Policy.Query.
var ErrPolicyQuery = errors.New("policy query failed")

// Query evaluates the policy's prepared query (CompileOptions.Query) for in
// and returns its value as plain Go data (map[string]any, []any for arrays
// and sets, string, json.Number, bool, nil). defined is false when the query
// has no result, e.g. a rule the bundle does not define.
//
// Unlike Eval it does not interpret the value, so it serves queries other
// than the decision contract (AuthZEN search candidates). The per-call
// deadline is the policy's decision timeout; an evaluation error, a timeout
// or a panic is returned as an error wrapping ErrPolicyQuery.
func (p *Policy) Query(ctx context.Context, in *Input) (value any, defined bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			value, defined = nil, false
			err = fmt.Errorf("%w: panic: %v\n%s", ErrPolicyQuery, r, debug.Stack())
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	input, err := in.astValue(readAll)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrPolicyQuery, err)
	}
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrPolicyQuery, ctx.Err())
		}
		return nil, false, fmt.Errorf("%w: %w", ErrPolicyQuery, err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, false, nil
	}
	return rs[0].Expressions[0].Value, true, nil
}
