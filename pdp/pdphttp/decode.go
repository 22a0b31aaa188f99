package pdphttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
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
func DecodeJSON(body []byte) (any, error) {
	d := &decoder{dec: json.NewDecoder(bytes.NewReader(body))}
	d.dec.UseNumber()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: unexpected data after the JSON value", ErrBadJSON)
	}
	return v, nil
}

type decoder struct {
	dec     *json.Decoder
	members int
}

func (d *decoder) value(depth int) (any, error) {
	tok, err := d.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: unexpected end of input", ErrBadJSON)
		}
		return nil, fmt.Errorf("%w: %s", ErrBadJSON, jsonErrorText(err))
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("%w: nesting deeper than %d levels", ErrBadJSON, MaxDepth)
		}
		if t == '{' {
			return d.object(depth + 1)
		}
		return d.array(depth + 1)
	default:
		return t, nil
	}
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
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrBadJSON, jsonErrorText(err))
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: object key is not a string", ErrBadJSON)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("%w: duplicate key %s", ErrBadJSON, strconv.Quote(shorten(key)))
		}
		if err := d.count(); err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[key] = v
	}
	if _, err := d.dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadJSON, jsonErrorText(err))
	}
	return m, nil
}

func (d *decoder) array(depth int) (any, error) {
	a := []any{}
	for d.dec.More() {
		if err := d.count(); err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
	if _, err := d.dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadJSON, jsonErrorText(err))
	}
	return a, nil
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
