package pdphttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Limits of a decoded request body.
const (
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 32
	// MaxMembers bounds the object members and array elements of one body.
	MaxMembers = 10000
)

// ErrBadJSON is wrapped by every decoding error; the message is safe to
// return as error_description.
var ErrBadJSON = errors.New("malformed JSON")

// DecodeJSON parses body into plain Go values (map[string]any, []any,
// string, json.Number, bool, nil) in one pass, rejecting what encoding/json
// silently accepts: duplicate object keys (the last would win, hiding the
// first from whoever validated it), nesting deeper than MaxDepth, more than
// MaxMembers members in total, and trailing data after the value.
//
// It is a single-pass scanner over body (the request path's hot spot was
// encoding/json's Decoder.Token, which allocates per token). Strings follow
// encoding/json exactly: those without escapes that are valid UTF-8 are
// copied as they are, any other is unquoted by encoding/json itself
// (invalid bytes and lone surrogates become U+FFFD).
func DecodeJSON(body []byte) (any, error) {
	d := &decoder{buf: body}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.buf) {
		return nil, fmt.Errorf("%w: unexpected data after the JSON value", ErrBadJSON)
	}
	return v, nil
}

type decoder struct {
	buf     []byte
	pos     int
	members int
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// syntax reports an unexpected byte (or the end of input) at d.pos.
func (d *decoder) syntax(context string) error {
	if d.pos >= len(d.buf) {
		return fmt.Errorf("%w: unexpected end of input", ErrBadJSON)
	}
	return fmt.Errorf("%w: invalid character %s %s at byte %d", ErrBadJSON, quoteChar(d.buf[d.pos]), context, d.pos+1)
}

func (d *decoder) value(depth int) (any, error) {
	d.skipSpace()
	if d.pos >= len(d.buf) {
		return nil, d.syntax("")
	}
	switch c := d.buf[d.pos]; {
	case c == '{' || c == '[':
		if depth >= MaxDepth {
			return nil, fmt.Errorf("%w: nesting deeper than %d levels", ErrBadJSON, MaxDepth)
		}
		d.pos++
		if c == '{' {
			return d.object(depth + 1)
		}
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.syntax("looking for beginning of value")
}

func (d *decoder) count() error {
	d.members++
	if d.members > MaxMembers {
		return fmt.Errorf("%w: more than %d object members and array elements", ErrBadJSON, MaxMembers)
	}
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	m := map[string]any{}
	d.skipSpace()
	if d.pos < len(d.buf) && d.buf[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.buf) || d.buf[d.pos] != '"' {
			return nil, d.syntax("looking for beginning of object key string")
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("%w: duplicate key %s", ErrBadJSON, strconv.Quote(shorten(key)))
		}
		if err := d.count(); err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.buf) || d.buf[d.pos] != ':' {
			return nil, d.syntax("after object key")
		}
		d.pos++
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[key] = v
		done, ok := d.separator('}')
		if !ok {
			return nil, d.syntax("after object key:value pair")
		}
		if done {
			return m, nil
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	a := []any{}
	d.skipSpace()
	if d.pos < len(d.buf) && d.buf[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for {
		if err := d.count(); err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		done, ok := d.separator(']')
		if !ok {
			return nil, d.syntax("after array element")
		}
		if done {
			return a, nil
		}
	}
}

// separator consumes what follows a member of an object or array: a comma
// (more members follow) or the closing byte (done). ok is false for
// anything else.
func (d *decoder) separator(closing byte) (done, ok bool) {
	d.skipSpace()
	if d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ',':
			d.pos++
			return false, true
		case closing:
			d.pos++
			return true, true
		}
	}
	return false, false
}

// str reads the string starting at the opening quote at d.pos.
func (d *decoder) str() (string, error) {
	start := d.pos
	d.pos++
	escaped, ascii := false, true
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		switch {
		case c == '"':
			d.pos++
			if raw := d.buf[start+1 : d.pos-1]; !escaped && (ascii || utf8.Valid(raw)) {
				return string(raw), nil
			}
			var s string
			if err := json.Unmarshal(d.buf[start:d.pos], &s); err != nil {
				return "", fmt.Errorf("%w: %s", ErrBadJSON, jsonErrorText(err))
			}
			return s, nil
		case c == '\\':
			escaped = true
			d.pos++
			if d.pos >= len(d.buf) {
				return "", d.syntax("")
			}
			switch d.buf[d.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.pos++
			case 'u':
				d.pos++
				for range 4 {
					if d.pos >= len(d.buf) {
						return "", d.syntax("")
					}
					if !isHex(d.buf[d.pos]) {
						return "", d.syntax("in \\u hexadecimal character escape")
					}
					d.pos++
				}
			default:
				return "", d.syntax("in string escape code")
			}
		case c < 0x20:
			return "", d.syntax("in string literal")
		case c >= utf8.RuneSelf:
			ascii = false
			d.pos++
		default:
			d.pos++
		}
	}
	return "", d.syntax("")
}

// number reads a JSON number at d.pos and returns its literal text.
func (d *decoder) number() (json.Number, error) {
	start := d.pos
	if d.buf[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos >= len(d.buf):
		return "", d.syntax("")
	case d.buf[d.pos] == '0':
		d.pos++
	case '1' <= d.buf[d.pos] && d.buf[d.pos] <= '9':
		d.digits()
	default:
		return "", d.syntax("in numeric literal")
	}
	if d.pos < len(d.buf) && d.buf[d.pos] == '.' {
		d.pos++
		if d.pos >= len(d.buf) || !isDigit(d.buf[d.pos]) {
			return "", d.syntax("after decimal point in numeric literal")
		}
		d.digits()
	}
	if d.pos < len(d.buf) && (d.buf[d.pos] == 'e' || d.buf[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.buf) && (d.buf[d.pos] == '+' || d.buf[d.pos] == '-') {
			d.pos++
		}
		if d.pos >= len(d.buf) || !isDigit(d.buf[d.pos]) {
			return "", d.syntax("in exponent of numeric literal")
		}
		d.digits()
	}
	return json.Number(d.buf[start:d.pos]), nil
}

func (d *decoder) digits() {
	for d.pos < len(d.buf) && isDigit(d.buf[d.pos]) {
		d.pos++
	}
}

// literal consumes word (true, false or null) at d.pos.
func (d *decoder) literal(word string) error {
	for i := range len(word) {
		if d.pos >= len(d.buf) {
			return d.syntax("")
		}
		if d.buf[d.pos] != word[i] {
			return d.syntax("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
		}
		d.pos++
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

// quoteChar formats c the way encoding/json's syntax errors do.
func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c < 0x20 || c >= 0x7f:
		return strconv.Quote(string(rune(c)))
	}
	return "'" + string(rune(c)) + "'"
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

func shorten(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
