package policy

import (
	"encoding/json"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
)

// astValue builds the policy input directly as an OPA value, skipping the
// JSON round trip that rego.EvalInput would make on the hot path. Only the
// fields in reads are built (readAll: every one); see inputReadsOf for why
// leaving the others out cannot change an answer.
// A value that OPA cannot represent is an error, never silently dropped: a
// missing context field could otherwise turn a ciba into an allow.
func (in *Input) astValue(reads inputField) (ast.Value, error) {
	var conv termConverter
	v := ast.NewObject()
	if reads&inputSections["subject"].all != 0 {
		subject := conv.entity(reads, readSubjectType, readSubjectID, readSubjectProperties,
			"subject", in.Subject.Type, in.Subject.ID, in.Subject.Properties)
		if reads&readSubjectClaims != 0 {
			subject.Insert(ast.InternedTerm("claims"), conv.mapTerm("subject.claims", in.Subject.Claims))
		}
		if a := in.Subject.Authn; a != nil && reads&readSubjectAuthn != 0 {
			subject.Insert(ast.InternedTerm("authn"), a.term())
		}
		v.Insert(ast.InternedTerm("subject"), ast.NewTerm(subject))
	}
	if reads&inputSections["action"].all != 0 {
		action := ast.NewObject()
		if reads&readActionName != 0 {
			action.Insert(ast.InternedTerm("name"), ast.StringTerm(in.Action.Name))
		}
		if reads&readActionProperties != 0 {
			action.Insert(ast.InternedTerm("properties"), conv.mapTerm("action.properties", in.Action.Properties))
		}
		v.Insert(ast.InternedTerm("action"), ast.NewTerm(action))
	}
	if reads&inputSections["resource"].all != 0 {
		resource := conv.entity(reads, readResourceType, readResourceID, readResourceProperties,
			"resource", in.Resource.Type, in.Resource.ID, in.Resource.Properties)
		v.Insert(ast.InternedTerm("resource"), ast.NewTerm(resource))
	}
	if reads&readContext != 0 {
		v.Insert(ast.InternedTerm("context"), conv.mapTerm("context", in.Context))
	}
	if reads&readNow != 0 {
		v.Insert(ast.InternedTerm("now"), ast.IntNumberTerm(int(in.Now)))
	}
	if reads&readClient != 0 {
		v.Insert(ast.InternedTerm("client"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("id"), ast.StringTerm(in.Client.ID)),
		))
	}
	// Fields left out are still checked, so that input OPA could not
	// represent fails closed whatever the policy reads.
	for _, f := range [...]struct {
		bit   inputField
		field string
		m     map[string]any
	}{
		{readSubjectProperties, "subject.properties", in.Subject.Properties},
		{readSubjectClaims, "subject.claims", in.Subject.Claims},
		{readActionProperties, "action.properties", in.Action.Properties},
		{readResourceProperties, "resource.properties", in.Resource.Properties},
		{readContext, "context", in.Context},
	} {
		if reads&f.bit == 0 {
			conv.check(f.field, f.m)
		}
	}
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
	if a.CIBACapable != CIBANotLookedUp {
		obj.Insert(ast.InternedTerm("ciba_capable"), a.CIBACapable.term())
	}
	return ast.NewTerm(obj)
}

// termConverter converts decoded JSON (strings, json.Number, bools, nil,
// []any, map[string]any) to OPA terms and keeps the first error.
type termConverter struct{ err error }

// entity builds an AuthZEN entity (type, id, properties) with the fields
// whose bits are in reads.
func (c *termConverter) entity(reads, typeBit, idBit, propsBit inputField, name, typ, id string, props map[string]any) ast.Object {
	obj := ast.NewObject()
	if reads&typeBit != 0 {
		obj.Insert(ast.InternedTerm("type"), ast.StringTerm(typ))
	}
	if reads&idBit != 0 {
		obj.Insert(ast.InternedTerm("id"), ast.StringTerm(id))
	}
	if reads&propsBit != 0 {
		obj.Insert(ast.InternedTerm("properties"), c.mapTerm(name+".properties", props))
	}
	return obj
}

// check reports, like mapTerm would, a value in m that OPA cannot
// represent, without building terms: decoded JSON is checked by type, and
// anything else is converted to find out.
func (c *termConverter) check(field string, m map[string]any) {
	if c.err != nil || len(m) == 0 {
		return
	}
	if !plainJSON(m) {
		if _, err := ast.InterfaceToValue(m); err != nil {
			c.err = fmt.Errorf("input %s: %w", field, err)
		}
	}
}

// plainJSON reports whether v holds only what a JSON decoder produces.
func plainJSON(v any) bool {
	switch x := v.(type) {
	case nil, string, bool, json.Number, float64, int, int64:
		return true
	case []any:
		for _, e := range x {
			if !plainJSON(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !plainJSON(e) {
				return false
			}
		}
		return true
	}
	return false
}

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
