package redact

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// ErrSyntax means the document is not a JSON object Object can walk.
var ErrSyntax = errors.New("redact: not a JSON object")

// Member is the name of the top-level member listing the removed paths.
const Member = "redacted"

// Object returns doc, a JSON object, without the values named by paths (see
// the package doc), with a top-level "redacted" member listing the concrete
// paths removed when there were any. paths must be valid (Validate); doc
// must not have a top-level "redacted" member. With no paths, doc is
// returned unchanged.
//
// Object copies the bytes of everything it keeps, so the output is the
// input byte for byte apart from the removed values (and whitespace inside
// the objects and arrays it descends into, which json.Marshal output has
// none of), and it descends only where a path can still match. It never
// returns doc with a value a path names: on error the caller must store no
// input at all.
func Object(doc []byte, paths []string) ([]byte, error) {
	if len(paths) == 0 {
		return doc, nil
	}
	// Bare names are matched as a set inside the claims and properties
	// rather than as the two rooted paths they stand for: the same result
	// (the tests compare the two), without stepping a cursor per name over
	// every claim.
	split := make([]string, len(paths)) // names from the front, rooted paths from the back
	n, r := 0, len(paths)
	for _, p := range paths {
		if isBare(p) {
			split[n] = p
			n++
		} else {
			r--
			split[r] = p
		}
	}
	names, rooted := split[:n], split[r:]
	// Sized for typical inputs, so that the walk itself rarely allocates.
	w := walker{src: doc, paths: rooted, names: names, stack: make([]cursor, len(rooted), 4*len(rooted)+8),
		keys: make([]key, 0, 8), out: make([]byte, 0, len(doc)+64), list: make([]byte, 0, 256)}
	for i := range rooted {
		w.stack[i] = cursor{path: int32(i)}
	}
	i := w.space(0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, ErrSyntax
	}
	end, err := w.object(i, w.stack, atRoot)
	if err != nil {
		return nil, err
	}
	if w.space(end) != len(doc) {
		return nil, fmt.Errorf("%w: data after the object", ErrSyntax)
	}
	if len(w.list) == 0 {
		return w.out, nil
	}
	w.out = w.out[:len(w.out)-1] // the root's '}'
	if w.out[len(w.out)-1] != '{' {
		w.out = append(w.out, ',')
	}
	w.out = append(w.out, `"`+Member+`":[`...)
	w.out = append(append(w.out, w.list...), ']', '}')
	return w.out, nil
}

// walker copies src to out, leaving out the values a path names.
type walker struct {
	src   []byte
	out   []byte
	paths []string // rooted paths
	names []string // bare names: claims at any depth of subject.claims and subject.properties
	stack []cursor // the cursors of every open level, innermost last
	keys  []key    // the concrete path of the value being walked
	list  []byte   // the removed paths so far, as JSON strings separated by commas
}

// where tells the walk where a value sits, for the bare names.
type where int8

const (
	elsewhere  where = iota
	atRoot           // the input itself
	atSubject        // input.subject
	inIdentity       // below subject.claims or subject.properties
)

// below returns where the member k of a value at w sits.
func (w where) below(k []byte) where {
	switch {
	case w == atRoot && string(k) == "subject":
		return atSubject
	case w == atSubject && (string(k) == "claims" || string(k) == "properties"):
		return inIdentity
	case w == inIdentity:
		return inIdentity
	}
	return elsewhere
}

// element returns where an element of an array at w sits.
func (w where) element() where {
	if w == inIdentity {
		return inIdentity
	}
	return elsewhere
}

// isName reports whether k is one of the bare names.
func (w *walker) isName(k []byte) bool {
	for _, n := range w.names {
		if matchSegment(n, k) {
			return true
		}
	}
	return false
}

// key is one step of a concrete path: a member name or an array index.
type key struct {
	name  []byte
	index int
}

// appendTo appends k as a path segment inside a JSON string: the path
// escapes (\. \* \\) and then JSON's.
func (k key) appendTo(b []byte) []byte {
	if k.index >= 0 {
		return strconv.AppendInt(b, int64(k.index), 10)
	}
	const hex = "0123456789abcdef"
	for _, c := range k.name {
		switch {
		case c == '.' || c == '*':
			b = append(b, '\\', '\\', c)
		case c == '\\':
			b = append(b, `\\\\`...)
		case c == '"':
			b = append(b, '\\', '"')
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}

// value copies the value at src[i], which sits at at, redacting inside it
// along cursors and the bare names, and returns the index after it.
func (w *walker) value(i int, cursors []cursor, at where) (int, error) {
	if i >= len(w.src) {
		return 0, ErrSyntax
	}
	if len(cursors) > 0 || (at != elsewhere && len(w.names) > 0) {
		switch w.src[i] {
		case '{':
			return w.object(i, cursors, at)
		case '[':
			return w.array(i, cursors, at)
		}
	}
	end, err := skip(w.src, i)
	if err != nil {
		return 0, err
	}
	w.out = append(w.out, w.src[i:end]...)
	return end, nil
}

func (w *walker) object(i int, cursors []cursor, at where) (int, error) {
	w.out = append(w.out, '{')
	i = w.space(i + 1)
	kept := 0
	var scratch []byte
	for n := 0; ; n++ {
		if i >= len(w.src) {
			return 0, ErrSyntax
		}
		if w.src[i] == '}' {
			w.out = append(w.out, '}')
			return i + 1, nil
		}
		if n > 0 {
			if w.src[i] != ',' {
				return 0, ErrSyntax
			}
			i = w.space(i + 1)
		}
		if i >= len(w.src) || w.src[i] != '"' {
			return 0, ErrSyntax
		}
		kend, err := skipString(w.src, i)
		if err != nil {
			return 0, err
		}
		raw := w.src[i:kend]
		name := raw[1 : len(raw)-1]
		if hasBackslash(name) {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return 0, fmt.Errorf("%w: %w", ErrSyntax, err)
			}
			scratch = append(scratch[:0], s...)
			name = scratch
		}
		if at == atRoot && string(name) == Member {
			return 0, fmt.Errorf("%w: the input already has a %q member", ErrSyntax, Member)
		}
		i = w.space(kend)
		if i >= len(w.src) || w.src[i] != ':' {
			return 0, ErrSyntax
		}
		i = w.space(i + 1)
		child, matched := w.step(cursors, name)
		if !matched && at == inIdentity && w.isName(name) {
			w.stack = w.stack[:len(w.stack)-len(child)]
			matched = true
		}
		if matched {
			if i, err = skip(w.src, i); err != nil {
				return 0, err
			}
			w.remove(key{name: name, index: -1})
		} else {
			if kept > 0 {
				w.out = append(w.out, ',')
			}
			kept++
			w.out = append(append(w.out, raw...), ':')
			w.keys = append(w.keys, key{name: name, index: -1})
			i, err = w.value(i, child, at.below(name))
			w.keys = w.keys[:len(w.keys)-1]
			w.stack = w.stack[:len(w.stack)-len(child)]
			if err != nil {
				return 0, err
			}
		}
		i = w.space(i)
	}
}

func (w *walker) array(i int, cursors []cursor, at where) (int, error) {
	w.out = append(w.out, '[')
	i = w.space(i + 1)
	var num [20]byte
	for n := 0; ; n++ {
		if i >= len(w.src) {
			return 0, ErrSyntax
		}
		if w.src[i] == ']' {
			w.out = append(w.out, ']')
			return i + 1, nil
		}
		if n > 0 {
			if w.src[i] != ',' {
				return 0, ErrSyntax
			}
			w.out = append(w.out, ',')
			i = w.space(i + 1)
		}
		child, matched := w.step(cursors, strconv.AppendInt(num[:0], int64(n), 10))
		var err error
		if matched {
			if i, err = skip(w.src, i); err != nil {
				return 0, err
			}
			w.out = append(w.out, "null"...)
			w.remove(key{index: n})
		} else {
			w.keys = append(w.keys, key{index: n})
			i, err = w.value(i, child, at.element())
			w.keys = w.keys[:len(w.keys)-1]
			w.stack = w.stack[:len(w.stack)-len(child)]
			if err != nil {
				return 0, err
			}
		}
		i = w.space(i)
	}
}

// step advances cursors over k. It pushes the cursors still open below k
// onto the stack and returns them, or reports that a path ends at k (and
// pushes nothing).
func (w *walker) step(cursors []cursor, k []byte) ([]cursor, bool) {
	base := len(w.stack)
	for _, c := range cursors {
		seg, after, done := c.next(w.paths)
		if seg == "**" {
			w.push(base, c) // ** takes k and stays open
			if done {
				w.stack = w.stack[:base]
				return nil, true
			}
			seg, after, done = after.next(w.paths) // ** takes no level
		}
		if !matchSegment(seg, k) {
			continue
		}
		if done || after.trailingGlob(w.paths) {
			w.stack = w.stack[:base]
			return nil, true
		}
		w.push(base, after)
	}
	return w.stack[base:], false
}

// push adds c to the cursors pushed since base unless it is there already.
func (w *walker) push(base int, c cursor) {
	for _, d := range w.stack[base:] {
		if d == c {
			return
		}
	}
	w.stack = append(w.stack, c)
}

// remove adds the concrete path of a removed value, the open keys and k, to
// the list.
func (w *walker) remove(k key) {
	if len(w.list) > 0 {
		w.list = append(w.list, ',')
	}
	w.list = append(w.list, '"')
	for i, p := range w.keys {
		if i > 0 {
			w.list = append(w.list, '.')
		}
		w.list = p.appendTo(w.list)
	}
	if len(w.keys) > 0 {
		w.list = append(w.list, '.')
	}
	w.list = append(k.appendTo(w.list), '"')
}

func (w *walker) space(i int) int {
	for i < len(w.src) {
		switch w.src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// skip returns the index after the JSON value at src[i].
func skip(src []byte, i int) (int, error) {
	if i >= len(src) {
		return 0, ErrSyntax
	}
	switch src[i] {
	case '"':
		return skipString(src, i)
	case '{', '[':
		depth := 0
		for ; i < len(src); i++ {
			switch src[i] {
			case '"':
				end, err := skipString(src, i)
				if err != nil {
					return 0, err
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
		}
		return 0, ErrSyntax
	}
	start := i
	for ; i < len(src); i++ {
		switch src[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return 0, ErrSyntax
			}
			return i, nil
		}
	}
	if i == start {
		return 0, ErrSyntax
	}
	return i, nil
}

// skipString returns the index after the JSON string starting at src[i].
func skipString(src []byte, i int) (int, error) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, ErrSyntax
}
