package pdphttp

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/policy"
)

// The evaluations_semantic values of AuthZEN 1.0.
const (
	semanticExecuteAll          = "execute_all"
	semanticDenyOnFirstDeny     = "deny_on_first_deny"
	semanticPermitOnFirstPermit = "permit_on_first_permit"
)

// azInput validates one evaluation {subject, action, resource, context?}.
func azInput(obj map[string]any, path string) (*policy.Input, error) {
	se, err := azEntity(obj, path, "subject", true)
	if err != nil {
		return nil, err
	}
	sub, err := azSubject(se, path)
	if err != nil {
		return nil, err
	}
	act, err := azAction(obj, path)
	if err != nil {
		return nil, err
	}
	re, err := azEntity(obj, path, "resource", true)
	if err != nil {
		return nil, err
	}
	ctx, _, err := azObject(obj, path, "context")
	if err != nil {
		return nil, err
	}
	return &policy.Input{Subject: sub, Action: act, Resource: policy.Resource(re), Context: ctx}, nil
}

// evaluation answers POST /access/v1/evaluation. A deny is a 200 like an
// allow; only a request that cannot be evaluated is a 4xx.
func (s *Server) evaluation(c echo.Context) error {
	obj, err := s.authzenBody(c)
	if err != nil {
		return err
	}
	return s.evaluateOne(c, obj)
}

func (s *Server) evaluateOne(c echo.Context, obj map[string]any) error {
	in, err := azInput(obj, "")
	if err != nil {
		return err
	}
	d := s.cfg.Service.Evaluate(c.Request().Context(), ClientOf(c), in)
	return c.JSON(http.StatusOK, authzenDecision(d))
}

type evaluationsResponse struct {
	Evaluations []azDecision `json:"evaluations"`
}

// evaluations answers POST /access/v1/evaluations. Top-level subject,
// action, resource and context are defaults that an item's member replaces
// whole; each item is validated after merging and an invalid one is answered
// in place with decision false and the error, not with a 400 for the batch.
// Without items it is a single evaluation.
func (s *Server) evaluations(c echo.Context) error {
	obj, err := s.authzenBody(c)
	if err != nil {
		return err
	}
	var items []any
	if v, ok := azField(obj, "evaluations"); ok {
		if items, ok = v.([]any); !ok {
			return invalidf("evaluations must be an array")
		}
	}
	if len(items) > MaxBatch {
		return invalidf("evaluations has %d items, at most %d are allowed", len(items), MaxBatch)
	}
	semantic, err := azSemantic(obj)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return s.evaluateOne(c, obj)
	}
	ctx, client := c.Request().Context(), ClientOf(c)
	inputs := make([]*policy.Input, len(items))
	out := make([]azDecision, 0, len(items))
	for i, it := range items {
		in, err := mergedInput(obj, it, fmt.Sprintf("evaluations[%d]", i))
		if err != nil {
			out = append(out, itemError(err))
			continue
		}
		inputs[i] = in
		out = append(out, azDecision{})
	}
	if semantic == semanticExecuteAll {
		s.evaluateAll(c, inputs, out)
		return c.JSON(http.StatusOK, evaluationsResponse{Evaluations: out})
	}
	// Short-circuit semantics decide in order and stop at the deciding item;
	// later items are neither evaluated nor recorded.
	stopOn := semantic == semanticPermitOnFirstPermit
	for i, in := range inputs {
		if in != nil {
			out[i] = authzenDecision(s.cfg.Service.Evaluate(ctx, client, in))
		}
		if out[i].Decision == stopOn {
			out = out[:i+1]
			break
		}
	}
	return c.JSON(http.StatusOK, evaluationsResponse{Evaluations: out})
}

// evaluateAll decides every valid input in one batch (one audit write) and
// fills out in place.
func (s *Server) evaluateAll(c echo.Context, inputs []*policy.Input, out []azDecision) {
	valid := make([]*policy.Input, 0, len(inputs))
	for _, in := range inputs {
		if in != nil {
			valid = append(valid, in)
		}
	}
	if len(valid) == 0 {
		return
	}
	ds := s.cfg.Service.EvaluateBatch(c.Request().Context(), ClientOf(c), valid)
	next := 0
	for i, in := range inputs {
		if in != nil {
			out[i] = authzenDecision(ds[next])
			next++
		}
	}
}

// mergedInput applies item over the request's defaults and validates it.
func mergedInput(defaults map[string]any, item any, path string) (*policy.Input, error) {
	m, ok := item.(map[string]any)
	if !ok {
		return nil, invalidf("%s must be an object", path)
	}
	merged := make(map[string]any, 4)
	for _, k := range []string{"subject", "action", "resource", "context"} {
		if v, ok := azField(m, k); ok {
			merged[k] = v
		} else if v, ok := azField(defaults, k); ok {
			merged[k] = v
		}
	}
	return azInput(merged, path)
}

// azSemantic reads options.evaluations_semantic; default execute_all.
func azSemantic(obj map[string]any) (string, error) {
	opts, ok, err := azObject(obj, "", "options")
	if err != nil || !ok {
		return semanticExecuteAll, err
	}
	v, err := azString(opts, "options", "evaluations_semantic", false)
	if err != nil {
		return "", err
	}
	switch v {
	case "", semanticExecuteAll:
		return semanticExecuteAll, nil
	case semanticDenyOnFirstDeny, semanticPermitOnFirstPermit:
		return v, nil
	}
	return "", invalidf("options.evaluations_semantic must be %s, %s or %s", semanticExecuteAll, semanticDenyOnFirstDeny, semanticPermitOnFirstPermit)
}
