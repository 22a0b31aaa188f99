package policy

import (
	"encoding/json"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
)

// CIBACapability is input.subject.authn.ciba_capable: whether the user can
// approve a CIBA request on a device, as stepgate found out from the
// issuer's enrollment lookup. It is true, false or "unknown" (the lookup
// failed), and absent when nothing was looked up: the issuer has no lookup
// configured, or the decision does not depend on it. Policies compare it
// with == true: a bare `input.subject.authn.ciba_capable` would also hold
// for "unknown", which is a string.
type CIBACapability uint8

// The capabilities; the zero value is "not looked up" (absent).
const (
	CIBANotLookedUp CIBACapability = iota
	CIBACapable
	CIBANotCapable
	CIBAUnknown
)

// CIBACapabilities are the values a lookup can give, in a fixed order.
var CIBACapabilities = [...]CIBACapability{CIBACapable, CIBANotCapable, CIBAUnknown}

// MarshalJSON renders true, false or "unknown" (null when not looked up,
// which omitempty leaves out).
func (c CIBACapability) MarshalJSON() ([]byte, error) {
	switch c {
	case CIBACapable:
		return []byte("true"), nil
	case CIBANotCapable:
		return []byte("false"), nil
	case CIBAUnknown:
		return []byte(`"unknown"`), nil
	}
	return []byte("null"), nil
}

// UnmarshalJSON reads what MarshalJSON writes, so that an audited input
// replays in the playground as it was decided.
func (c *CIBACapability) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v {
	case true:
		*c = CIBACapable
	case false:
		*c = CIBANotCapable
	case "unknown":
		*c = CIBAUnknown
	case nil:
		*c = CIBANotLookedUp
	default:
		return fmt.Errorf("ciba_capable must be true, false or \"unknown\", got %s", b)
	}
	return nil
}

func (c CIBACapability) term() *ast.Term {
	switch c {
	case CIBACapable:
		return ast.BooleanTerm(true)
	case CIBANotCapable:
		return ast.BooleanTerm(false)
	}
	return ast.StringTerm("unknown")
}

// ReadsCIBACapable reports whether the policy can observe
// input.subject.authn.ciba_capable, through any reference that reaches it
// (the field, an enclosing object, a variable key, a bare input). A policy
// that cannot be analysed counts as reading it. When it is false, looking
// the user's enrollment up could not change any answer.
func (p *Policy) ReadsCIBACapable() bool { return p.readsCIBA }

// cibaCapablePath is where the capability sits in the input.
var cibaCapablePath = []string{"subject", "authn", "ciba_capable"}

// observesPath reports whether any reference rooted at input in the
// modules compiled in c can reach input.<path>: the path itself or below
// it, an enclosing object, or a variable where a name of the path would be;
// a bare input reaches everything. compileForAnalysis has already ruled out
// `with`.
func observesPath(c *ast.Compiler, path []string) bool {
	return observesInput(c, func(r ast.Ref) bool { return refReachesPath(r, path) })
}

// refReachesPath reports whether a reference rooted at input can reach
// input.<path>.
func refReachesPath(ref ast.Ref, path []string) bool {
	for i, want := range path {
		if len(ref) <= i+1 {
			return true // an enclosing object
		}
		s, ok := ref[i+1].Value.(ast.String)
		if !ok {
			return true // a variable: any key, this one among them
		}
		if string(s) != want {
			return false
		}
	}
	return true
}
