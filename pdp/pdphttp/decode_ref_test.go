package pdphttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// referenceDecodeJSON is the encoding/json Decoder.Token implementation
// DecodeJSON replaced, kept for the differential tests: both must accept
// exactly the same bodies and return equal values.
func referenceDecodeJSON(body []byte) (any, error) {
	d := &refDecoder{dec: json.NewDecoder(bytes.NewReader(body))}
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

type refDecoder struct {
	dec     *json.Decoder
	members int
}

func (d *refDecoder) value(depth int) (any, error) {
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

func (d *refDecoder) count() error {
	d.members++
	if d.members > MaxMembers {
		return fmt.Errorf("%w: more than %d object members and array elements", ErrBadJSON, MaxMembers)
	}
	return nil
}

func (d *refDecoder) object(depth int) (any, error) {
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

func (d *refDecoder) array(depth int) (any, error) {
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
