package policy

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// inputKey encodes the fields of in that are in reads (see inputReadsOf)
// injectively: every value carries a type tag, strings and collections
// their length, and map keys are sorted, so equal keys mean equal input
// documents as the policy builds them (astValue with the same reads). With
// timeless, now and authn.age are left out (the caller has proved the
// answer does not depend on them within the entry's window, see timeModel);
// a different tag keeps the two kinds apart. ok is false when a value has a
// type the encoder does not know, also in a field left out: such an input
// fails closed in astValue and must never be answered from the cache.
func inputKey(in *Input, timeless bool, reads inputField) (string, bool) {
	bp := keyBufs.Get().(*[]byte)
	defer keyBufs.Put(bp)
	e := keyEncoder{buf: (*bp)[:0], ok: true}
	if timeless {
		e.buf = append(e.buf, 'T')
	} else {
		e.buf = append(e.buf, 'N')
		e.int(in.Now)
	}
	field := func(bit inputField, encode func()) {
		if reads&bit != 0 {
			encode()
		} else {
			e.buf = append(e.buf, '-')
		}
	}
	mapField := func(bit inputField, m map[string]any) {
		if reads&bit != 0 {
			e.value(m)
			return
		}
		e.buf = append(e.buf, '-')
		if len(m) > 0 && !plainJSON(m) {
			e.ok = false
		}
	}
	field(readSubjectType, func() { e.str(in.Subject.Type) })
	field(readSubjectID, func() { e.str(in.Subject.ID) })
	mapField(readSubjectProperties, in.Subject.Properties)
	mapField(readSubjectClaims, in.Subject.Claims)
	field(readSubjectAuthn, func() {
		if a := in.Subject.Authn; a == nil {
			e.buf = append(e.buf, 'z')
		} else {
			e.buf = append(e.buf, 'A')
			e.strings(a.Methods)
			e.bool(a.MFA)
			e.str(a.ACR)
			e.intPtr(a.AuthTime)
			if !timeless {
				e.intPtr(a.Age)
			}
			e.buf = append(e.buf, 'c', byte(a.CIBACapable))
		}
	})
	field(readActionName, func() { e.str(in.Action.Name) })
	mapField(readActionProperties, in.Action.Properties)
	field(readResourceType, func() { e.str(in.Resource.Type) })
	field(readResourceID, func() { e.str(in.Resource.ID) })
	mapField(readResourceProperties, in.Resource.Properties)
	mapField(readContext, in.Context)
	field(readClient, func() { e.str(in.Client.ID) })
	*bp = e.buf
	if !e.ok {
		return "", false
	}
	return string(e.buf), true
}

type keyEncoder struct {
	buf []byte
	ok  bool
}

func (e *keyEncoder) len(n int) { e.buf = binary.AppendUvarint(e.buf, uint64(n)) }

func (e *keyEncoder) str(s string) {
	e.buf = append(e.buf, 's')
	e.len(len(s))
	e.buf = append(e.buf, s...)
}

func (e *keyEncoder) int(n int64) {
	e.buf = append(e.buf, 'i')
	e.buf = binary.AppendVarint(e.buf, n)
}

func (e *keyEncoder) intPtr(p *int64) {
	if p == nil {
		e.buf = append(e.buf, 'z')
		return
	}
	e.int(*p)
}

func (e *keyEncoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 't')
	} else {
		e.buf = append(e.buf, 'f')
	}
}

func (e *keyEncoder) strings(ss []string) {
	e.buf = append(e.buf, 'a')
	e.len(len(ss))
	for _, s := range ss {
		e.str(s)
	}
}

// value encodes decoded JSON. A nil and an empty map encode alike because
// the policy receives an empty object for both (see astValue).
func (e *keyEncoder) value(v any) {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, 'z')
	case string:
		e.str(x)
	case bool:
		e.bool(x)
	case json.Number:
		e.buf = append(e.buf, 'n')
		e.len(len(x))
		e.buf = append(e.buf, x...)
	case float64:
		e.buf = append(e.buf, 'd')
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(x))
	case int:
		e.int(int64(x))
	case int64:
		e.int(x)
	case []string:
		e.strings(x)
	case []any:
		e.buf = append(e.buf, 'a')
		e.len(len(x))
		for _, el := range x {
			e.value(el)
		}
	case map[string]any:
		e.buf = append(e.buf, 'm')
		e.len(len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			e.str(k)
			e.value(x[k])
		}
	default:
		e.ok = false
	}
}

// policyIsDeterministic reports whether no module of b calls a built-in
// that OPA marks non-deterministic (time.now_ns, http.send, rand.intn,
// uuid.rfc4122, opa.runtime, …). Only then is a result a function of the
// input and the revision, and cacheable.
func policyIsDeterministic(b *bundle.Bundle) bool {
	det := true
	check := func(op string) {
		if bi, ok := ast.BuiltinMap[op]; ok && bi.Nondeterministic {
			det = false
		}
	}
	for _, mf := range b.Modules {
		if mf.Parsed == nil {
			return false
		}
		ast.WalkTerms(mf.Parsed, func(t *ast.Term) bool {
			switch v := t.Value.(type) {
			case ast.Call:
				check(v[0].String())
			case ast.Ref:
				// A built-in named as an operator of an expression.
				check(v.String())
			}
			return !det
		})
	}
	return det
}
