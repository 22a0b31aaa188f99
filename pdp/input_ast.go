package pdp

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
)

// astValue builds the policy input directly as an OPA value, skipping the
// JSON round trip that rego.EvalInput would make on the hot path.
// A value that OPA cannot represent is an error, never silently dropped: a
// missing context field could otherwise turn a ciba into an allow.
func (in *Input) astValue() (ast.Value, error) {
	var conv termConverter
	subject := ast.NewObject(
		ast.Item(ast.InternedTerm("type"), ast.StringTerm(in.Subject.Type)),
		ast.Item(ast.InternedTerm("id"), ast.StringTerm(in.Subject.ID)),
		ast.Item(ast.InternedTerm("properties"), conv.mapTerm("subject.properties", in.Subject.Properties)),
		ast.Item(ast.InternedTerm("claims"), conv.mapTerm("subject.claims", in.Subject.Claims)),
	)
	if a := in.Subject.Authn; a != nil {
		subject.Insert(ast.InternedTerm("authn"), a.term())
	}
	v := ast.NewObject(
		ast.Item(ast.InternedTerm("subject"), ast.NewTerm(subject)),
		ast.Item(ast.InternedTerm("action"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("name"), ast.StringTerm(in.Action.Name)),
			ast.Item(ast.InternedTerm("properties"), conv.mapTerm("action.properties", in.Action.Properties)),
		)),
		ast.Item(ast.InternedTerm("resource"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("type"), ast.StringTerm(in.Resource.Type)),
			ast.Item(ast.InternedTerm("id"), ast.StringTerm(in.Resource.ID)),
			ast.Item(ast.InternedTerm("properties"), conv.mapTerm("resource.properties", in.Resource.Properties)),
		)),
		ast.Item(ast.InternedTerm("context"), conv.mapTerm("context", in.Context)),
		ast.Item(ast.InternedTerm("now"), ast.IntNumberTerm(int(in.Now))),
		ast.Item(ast.InternedTerm("client"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("id"), ast.StringTerm(in.Client.ID)),
		)),
	)
	if conv.err != nil {
		return nil, conv.err
	}
	return v, nil
}

func (a *Authn) term() *ast.Term {
	methods := make([]*ast.Term, len(a.Methods))
	for i, m := range a.Methods {
		methods[i] = ast.StringTerm(m)
	}
	obj := ast.NewObject(
		ast.Item(ast.InternedTerm("methods"), ast.ArrayTerm(methods...)),
		ast.Item(ast.InternedTerm("mfa"), ast.BooleanTerm(a.MFA)),
	)
	if a.ACR != "" {
		obj.Insert(ast.InternedTerm("acr"), ast.StringTerm(a.ACR))
	}
	if a.AuthTime != nil {
		obj.Insert(ast.InternedTerm("auth_time"), ast.IntNumberTerm(int(*a.AuthTime)))
	}
	if a.Age != nil {
		obj.Insert(ast.InternedTerm("age"), ast.IntNumberTerm(int(*a.Age)))
	}
	return ast.NewTerm(obj)
}

// termConverter converts decoded JSON (strings, json.Number, bools, nil,
// []any, map[string]any) to OPA terms and keeps the first error.
type termConverter struct{ err error }

// mapTerm converts m; a nil map becomes an empty object so that policies can
// always index into it.
func (c *termConverter) mapTerm(field string, m map[string]any) *ast.Term {
	if len(m) == 0 {
		return ast.ObjectTerm()
	}
	v, err := ast.InterfaceToValue(m)
	if err != nil {
		if c.err == nil {
			c.err = fmt.Errorf("input %s: %w", field, err)
		}
		return ast.ObjectTerm()
	}
	return ast.NewTerm(v)
}
