package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// inputField is one field of the policy input that astValue builds.
type inputField uint16

const (
	readSubjectType inputField = 1 << iota
	readSubjectID
	readSubjectProperties
	readSubjectClaims
	readSubjectAuthn
	readActionName
	readActionProperties
	readResourceType
	readResourceID
	readResourceProperties
	readContext
	readNow
	readClient
	readAll inputField = 1<<iota - 1
)

// inputSections maps each top-level input key to its fields, and each
// field name within it to its bit (nil for keys without fields).
var inputSections = map[string]struct {
	all    inputField
	fields map[string]inputField
}{
	"subject": {readSubjectType | readSubjectID | readSubjectProperties | readSubjectClaims | readSubjectAuthn, map[string]inputField{
		"type": readSubjectType, "id": readSubjectID, "properties": readSubjectProperties, "claims": readSubjectClaims, "authn": readSubjectAuthn}},
	"action": {readActionName | readActionProperties, map[string]inputField{
		"name": readActionName, "properties": readActionProperties}},
	"resource": {readResourceType | readResourceID | readResourceProperties, map[string]inputField{
		"type": readResourceType, "id": readResourceID, "properties": readResourceProperties}},
	"context": {readContext, nil},
	"now":     {readNow, nil},
	"client":  {readClient, nil},
}

// inputReadsOf returns the input fields the policy compiled in c can
// observe. A policy sees the input only through references rooted at
// input; a reference to a field sees everything below it, a reference to
// a section (input.subject) or with a variable where a name would be
// (input[k], input.subject[k]) sees the whole section or input, and a bare
// input sees all of it. Fields no reference reaches can be left out of the
// input document without changing any answer: nothing in the policy can
// tell them apart from absent ones. compileForAnalysis has already ruled
// out `with`, which could substitute the input wholesale.
func inputReadsOf(c *ast.Compiler) inputField {
	var reads inputField
	var visit func(t *ast.Term) bool
	visit = func(t *ast.Term) bool {
		switch v := t.Value.(type) {
		case ast.Var:
			if v.Equal(ast.InputRootDocument.Value) {
				reads = readAll // the whole input, not inside a reference
			}
		case ast.Ref:
			if v[0].Equal(ast.InputRootDocument) {
				reads |= refReads(v)
			}
			for _, part := range v[1:] {
				ast.WalkTerms(part, visit)
			}
			return true // the head is handled above
		}
		return false
	}
	for _, m := range c.Modules {
		ast.WalkTerms(m, visit)
	}
	return reads
}

// refReads is what one reference rooted at input can observe.
func refReads(ref ast.Ref) inputField {
	if len(ref) < 2 {
		return readAll
	}
	section, ok := ref[1].Value.(ast.String)
	if !ok {
		return readAll
	}
	sec, ok := inputSections[string(section)]
	if !ok {
		return 0 // a key stepgate never sets: undefined either way
	}
	if len(ref) < 3 || sec.fields == nil {
		return sec.all
	}
	field, ok := ref[2].Value.(ast.String)
	if !ok {
		return sec.all
	}
	return sec.fields[string(field)] // 0 for a field stepgate never sets
}

// observesClock reports whether the policy compiled in c can see the clock:
// input.now, or subject.authn.age (now − auth_time), through any reference
// that reaches them — the field itself, a reference to an enclosing object
// (input.subject.authn, input.subject, input), a variable where a name
// would be (input.subject.authn[k]), or a bare input. auth_time and the
// other authn facts do not move with the clock. compileForAnalysis has
// already ruled out `with`.
func observesClock(c *ast.Compiler) bool { return observesInput(c, refReachesClock) }

// observesInput reports whether any reference rooted at input in the
// modules compiled in c satisfies reaches, or a bare input appears (which
// reaches everything).
func observesInput(c *ast.Compiler, reaches func(ast.Ref) bool) bool {
	seen := false
	var visit func(t *ast.Term) bool
	visit = func(t *ast.Term) bool {
		switch v := t.Value.(type) {
		case ast.Var:
			if v.Equal(ast.InputRootDocument.Value) {
				seen = true
			}
		case ast.Ref:
			if v[0].Equal(ast.InputRootDocument) && reaches(v) {
				seen = true
			}
			for _, part := range v[1:] {
				ast.WalkTerms(part, visit)
			}
			return true
		}
		return seen
	}
	for _, m := range c.Modules {
		ast.WalkTerms(m, visit)
		if seen {
			return true
		}
	}
	return false
}

// refReachesClock reports whether a reference rooted at input can reach
// input.now or input.subject.authn.age.
func refReachesClock(ref ast.Ref) bool {
	for i, want := range []string{"", "subject", "authn", "age"} {
		if i == 0 {
			continue
		}
		if len(ref) <= i {
			return true // an enclosing object: it holds the clock
		}
		s, ok := ref[i].Value.(ast.String)
		if !ok {
			return true // a variable: any key, the clock's among them
		}
		if i == 1 && s == "now" {
			return true
		}
		if string(s) != want {
			return false
		}
	}
	return true // input.subject.authn.age, or below it
}
