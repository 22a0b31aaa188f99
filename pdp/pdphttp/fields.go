package pdphttp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
)

// fields reads typed members of a decoded JSON object and names the path of
// anything wrong, so error_description says exactly what to fix.
type fields struct {
	path string
	obj  map[string]any
	err  error
}

func newFields(path string, v any) (*fields, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		what := path
		if what == "" {
			what = "the request body"
		}
		return nil, invalidf("%s must be a JSON object", what)
	}
	return &fields{path: path, obj: obj}, nil
}

func (f *fields) name(k string) string {
	if f.path == "" {
		return k
	}
	return f.path + "." + k
}

func (f *fields) fail(format string, args ...any) {
	if f.err == nil {
		f.err = invalidf(format, args...)
	}
}

// only rejects members not in allowed.
func (f *fields) only(allowed ...string) {
	var unknown []string
	for k := range f.obj {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		f.fail("unknown field %s (allowed: %s)", f.name(shorten(unknown[0])), strings.Join(allowed, ", "))
	}
}

func (f *fields) str(k string) string {
	v, ok := f.obj[k]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.fail("%s must be a string", f.name(k))
	}
	return s
}

// object returns a member that must be an object; present reports whether
// it was there (an explicit null counts as absent).
func (f *fields) object(k string) (m map[string]any, present bool) {
	v, ok := f.obj[k]
	if !ok || v == nil {
		return nil, false
	}
	m, ok = v.(map[string]any)
	if !ok {
		f.fail("%s must be an object", f.name(k))
		return nil, false
	}
	return m, true
}

func (f *fields) resource(k string) policy.Resource {
	m, ok := f.object(k)
	if !ok {
		return policy.Resource{}
	}
	r := &fields{path: f.name(k), obj: m}
	r.only("type", "id", "properties")
	res := policy.Resource{Type: r.str("type"), ID: r.str("id")}
	res.Properties, _ = r.object("properties")
	if r.err != nil {
		f.fail("%s", strings.TrimPrefix(r.err.Error(), errPrefix))
	}
	return res
}

const errPrefix = "invalid request: "

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", clientauth.ErrInvalidRequest, fmt.Sprintf(format, args...))
}
