package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// jsonedit changes values inside a JSON document's text and leaves every
// other byte alone: key order, indentation, inline arrays and unrelated
// members stay as the author wrote them, so a one-value change of the
// requirements table is a one-line diff for the reviewer.

// jfield is one member of a wanted JSON object, in the order new members
// are written. val is a string, bool, int64, float64, []string or
// []jfield (a nested object).
type jfield struct {
	key string
	val any
}

// jnode is a parsed JSON value and where its text is.
type jnode struct {
	start, end int
	object     bool
	members    []jmember
}

// jmember is an object member: the offset of its key's opening quote, the
// key, and its value.
type jmember struct {
	keyStart int
	key      string
	val      *jnode
}

// jedit replaces src[start:end] with text.
type jedit struct {
	start, end int
	text       string
}

// jsonEditor collects the edits that turn one document into the wanted one.
type jsonEditor struct {
	src   []byte
	unit  string
	edits []jedit
}

// patchJSONObject rewrites the object at path (e.g. "actions") of src so
// that it holds exactly want, touching only members whose value differs.
// A missing object at path is added as the document's last member.
func patchJSONObject(src []byte, path string, want []jfield) ([]byte, error) {
	if !json.Valid(src) {
		return nil, errors.New("not valid JSON")
	}
	p := &jparser{src: src}
	root, err := p.value()
	if err != nil {
		return nil, err
	}
	if !root.object {
		return nil, errors.New("the document is not a JSON object")
	}
	e := &jsonEditor{src: src, unit: indentUnit(src, root)}
	e.object(root, []jfield{{key: path, val: want}}, 0, "", false)
	return e.apply(), nil
}

// object edits n so that it holds want. depth says what happens to members
// want does not name: at 0 (the document) they are other keys and stay; at
// 1 (the table) they are removed actions; deeper (an action's fields) a
// zero value stays, since leaving it out means the same. indent and inline
// describe the line of the member n is the value of.
func (e *jsonEditor) object(n *jnode, want []jfield, depth int, indent string, inline bool) {
	wanted := map[string]jfield{}
	for _, w := range want {
		wanted[w.key] = w
	}
	kept := make([]bool, len(n.members))
	for i, m := range n.members {
		w, ok := wanted[m.key]
		switch {
		case !ok:
			kept[i] = depth == 0 || depth > 1 && e.zero(m.val)
		case m.val.object && isObject(w.val):
			kept[i] = true
			in, inl := e.lineIndent(m.keyStart)
			e.object(m.val, w.val.([]jfield), depth+1, in, inl)
		default:
			kept[i] = true
			if !e.same(m.val, w.val) {
				indent, inline := e.lineIndent(m.keyStart)
				e.edits = append(e.edits, jedit{m.val.start, m.val.end, e.encode(w.val, indent, inline)})
			}
		}
	}
	var added []jfield
	for _, w := range want {
		if !slices.ContainsFunc(n.members, func(m jmember) bool { return m.key == w.key }) {
			added = append(added, w)
		}
	}
	first := slices.Index(kept, true)
	if first < 0 {
		// Nothing of the old object stays: write it anew.
		e.edits = append(e.edits, jedit{n.start, n.end, e.encode(added, indent, inline)})
		return
	}
	if first > 0 {
		e.edits = append(e.edits, jedit{n.members[0].keyStart, n.members[first].keyStart, ""})
	}
	last := first
	for i := first + 1; i < len(n.members); i++ {
		if kept[i] {
			last = i
			continue
		}
		e.edits = append(e.edits, jedit{n.members[i-1].val.end, n.members[i].val.end, ""})
	}
	if len(added) == 0 {
		return
	}
	sep := e.separator(n)
	inner, flat := sep, !strings.Contains(sep, "\n")
	if i := strings.LastIndexByte(sep, '\n'); i >= 0 {
		inner = sep[i+1:]
	}
	var b strings.Builder
	for _, w := range added {
		b.WriteString("," + sep + strconv.Quote(w.key) + ": " + e.encode(w.val, inner, flat))
	}
	at := n.members[last].val.end
	e.edits = append(e.edits, jedit{at, at, b.String()})
}

// separator is the text the object puts between a comma and the next key,
// or after its opening brace when it has one member.
func (e *jsonEditor) separator(n *jnode) string {
	if len(n.members) >= 2 {
		i := n.members[0].val.end
		for e.src[i] != ',' {
			i++
		}
		return string(e.src[i+1 : n.members[1].keyStart])
	}
	s := string(e.src[n.start+1 : n.members[0].keyStart])
	if s == "" {
		return " "
	}
	return s
}

// lineIndent is the whitespace that starts the line holding offset, and
// whether something other than whitespace precedes offset on that line.
func (e *jsonEditor) lineIndent(offset int) (string, bool) {
	start := bytes.LastIndexByte(e.src[:offset], '\n') + 1
	line := e.src[start:offset]
	trimmed := bytes.TrimLeft(line, " \t")
	return string(line[:len(line)-len(trimmed)]), len(trimmed) > 0
}

// same reports whether n's text already means val.
func (e *jsonEditor) same(n *jnode, val any) bool {
	var have any
	if json.Unmarshal(e.src[n.start:n.end], &have) != nil {
		return false
	}
	return reflect.DeepEqual(have, plain(val))
}

// zero reports whether n is false, "", [], {} or null: a member the table
// would not write, whose absence means the same, so it stays.
func (e *jsonEditor) zero(n *jnode) bool {
	var have any
	if json.Unmarshal(e.src[n.start:n.end], &have) != nil {
		return false
	}
	switch v := have.(type) {
	case nil:
		return true
	case bool:
		return !v
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// encode writes val in the document's style: objects one member a line
// (inline inside an inline object), arrays on one line.
func (e *jsonEditor) encode(val any, indent string, inline bool) string {
	switch v := val.(type) {
	case []jfield:
		if len(v) == 0 {
			return "{}"
		}
		parts := make([]string, len(v))
		for i, f := range v {
			parts[i] = strconv.Quote(f.key) + ": " + e.encode(f.val, indent+e.unit, inline)
		}
		if inline {
			return "{" + strings.Join(parts, ", ") + "}"
		}
		inner := indent + e.unit
		return "{\n" + inner + strings.Join(parts, ",\n"+inner) + "\n" + indent + "}"
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = e.scalar(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return e.scalar(val)
}

func (e *jsonEditor) scalar(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only strings, bools and numbers reach here, and a number is
		// never NaN or infinite: ParseActionRow parses finite values.
		panic(fmt.Sprintf("admin: encode %T: %v", v, err))
	}
	return string(b)
}

// apply performs the edits from the end of the text backwards, so that
// each edit's offsets still hold when it is made.
func (e *jsonEditor) apply() []byte {
	slices.SortFunc(e.edits, func(a, b jedit) int {
		if a.start != b.start {
			return b.start - a.start
		}
		return b.end - a.end
	})
	out := slices.Clone(e.src)
	for _, ed := range e.edits {
		out = slices.Concat(out[:ed.start], []byte(ed.text), out[ed.end:])
	}
	return out
}

// indentUnit is the indentation of the document's first member, the step
// by which new nested objects are indented; two spaces when it has none.
func indentUnit(src []byte, root *jnode) string {
	if len(root.members) > 0 {
		start := bytes.LastIndexByte(src[:root.members[0].keyStart], '\n') + 1
		if ws := src[start:root.members[0].keyStart]; start > 0 && len(bytes.TrimLeft(ws, " \t")) == 0 && len(ws) > 0 {
			return string(ws)
		}
	}
	return "  "
}

func isObject(v any) bool {
	_, ok := v.([]jfield)
	return ok
}

// plain turns a wanted value into what json.Unmarshal would produce.
func plain(v any) any {
	switch x := v.(type) {
	case []jfield:
		m := make(map[string]any, len(x))
		for _, f := range x {
			m[f.key] = plain(f.val)
		}
		return m
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case int64:
		return float64(x)
	}
	return v
}

// jparser finds the spans of a document json.Valid accepted.
type jparser struct {
	src []byte
	pos int
}

func (p *jparser) space() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *jparser) value() (*jnode, error) {
	p.space()
	if p.pos >= len(p.src) {
		return nil, errors.New("unexpected end of JSON")
	}
	n := &jnode{start: p.pos}
	switch p.src[p.pos] {
	case '{':
		n.object = true
		p.pos++
		for {
			p.space()
			if p.src[p.pos] == '}' {
				p.pos++
				break
			}
			if p.src[p.pos] == ',' {
				p.pos++
				p.space()
			}
			m := jmember{keyStart: p.pos}
			end := p.stringEnd()
			if err := json.Unmarshal(p.src[m.keyStart:end], &m.key); err != nil {
				return nil, err
			}
			p.pos = end
			p.space()
			p.pos++ // the colon
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			m.val = v
			n.members = append(n.members, m)
		}
	case '[':
		p.pos++
		for {
			p.space()
			if p.src[p.pos] == ']' {
				p.pos++
				break
			}
			if p.src[p.pos] == ',' {
				p.pos++
			}
			if _, err := p.value(); err != nil {
				return nil, err
			}
		}
	case '"':
		p.pos = p.stringEnd()
	default:
		for p.pos < len(p.src) && strings.IndexByte(",]} \t\r\n", p.src[p.pos]) < 0 {
			p.pos++
		}
	}
	n.end = p.pos
	return n, nil
}

// stringEnd is the offset just past the string starting at p.pos.
func (p *jparser) stringEnd() int {
	i := p.pos + 1
	for p.src[i] != '"' {
		if p.src[i] == '\\' {
			i++
		}
		i++
	}
	return i + 1
}
