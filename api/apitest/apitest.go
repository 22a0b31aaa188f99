// Package apitest checks real HTTP exchanges against stepgate's OpenAPI
// document (package api) with libopenapi-validator, which reads OpenAPI 3.1
// and validates bodies as JSON Schema 2020-12. Tests wrap the router they
// serve with Handler, so that every response every test receives is
// validated — the status must be documented for the operation, the required
// headers present, and the body must match the schema.
package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	valerrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"

	"github.com/stepgate/stepgate/api"
)

// Checker validates responses against the document.
type Checker struct {
	mu sync.Mutex // the validator's caches are not documented as concurrency-safe
	v  validator.Validator
}

// shared is built once per test binary: parsing the document and compiling
// its schemas is the slow part.
var shared = sync.OnceValues(func() (*Checker, error) { return New(api.OpenAPI()) })

// Shared returns the checker of the committed document.
func Shared(tb testing.TB) *Checker {
	tb.Helper()
	c, err := shared()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// New builds a checker of doc, which must be a valid OpenAPI document.
func New(doc []byte) (*Checker, error) {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("apitest: parse the OpenAPI document: %w", err)
	}
	v, errs := validator.NewValidator(d, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("apitest: build the validator: %w", errors.Join(errs...))
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("apitest: the OpenAPI document is invalid: %s", describe(verrs))
	}
	return &Checker{v: v}, nil
}

// CheckResponse reports how the response (status, header, body) to req
// departs from the document: an undocumented path, method or status, a
// missing required header, or a body that does not match the schema. A
// router's own 404 or 405 for a path or method the API does not have is
// accepted when its body is the documented error shape.
func (c *Checker) CheckResponse(req *http.Request, status int, header http.Header, body []byte) error {
	vreq := &http.Request{Method: req.Method, URL: req.URL, Header: req.Header.Clone(), Host: req.Host}
	resp := &http.Response{StatusCode: status, Header: header.Clone(), Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: vreq}
	c.mu.Lock()
	ok, verrs := c.v.ValidateHttpResponse(vreq, resp)
	c.mu.Unlock()
	if !ok && req.Method == http.MethodHead && len(body) == 0 {
		verrs = withoutBodyErrors(verrs)
		ok = len(verrs) == 0
	}
	if ok {
		return nil
	}
	if routerAnswer(status, body) {
		return nil
	}
	return fmt.Errorf("%s %s → %d does not match the OpenAPI document: %s\nbody: %.2000s",
		req.Method, req.URL.Path, status, describe(verrs), body)
}

// routerAnswer reports whether the answer is the router's own refusal of a
// path or method that is not served: in the document but not registered in
// this configuration (search without a searcher, /metrics without a
// handler), or not in the document at all. Its body is checked exactly.
func routerAnswer(status int, body []byte) bool {
	var eb struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &eb) != nil {
		return false
	}
	switch status {
	case http.StatusNotFound:
		return eb.Error == "not_found" && eb.Description == "no such endpoint"
	case http.StatusMethodNotAllowed:
		return eb.Error == "method_not_allowed" && eb.Description == "method not allowed on this endpoint"
	}
	return false
}

// withoutBodyErrors drops the complaints about a missing body: an answer
// to HEAD has none (RFC 9110 §9.3.2), whatever the operation's content.
func withoutBodyErrors(verrs []*valerrors.ValidationError) []*valerrors.ValidationError {
	var out []*valerrors.ValidationError
	for _, e := range verrs {
		if e.ValidationType == helpers.ResponseBodyValidation && e.ValidationSubType != helpers.ParameterValidationHeader {
			continue
		}
		out = append(out, e)
	}
	return out
}

func describe(verrs []*valerrors.ValidationError) string {
	var b strings.Builder
	for _, e := range verrs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s (schema %s)", se.Reason, se.FieldPath, se.KeywordLocation)
		}
	}
	return b.String()
}

// Handler serves h and validates each response before the client sees it,
// reporting a mismatch as an error of tb. The response is held back until
// it is checked, so that a test cannot end before its check.
func Handler(tb testing.TB, h http.Handler) http.Handler {
	c := Shared(tb)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &http.Request{Method: r.Method, URL: r.URL, Header: r.Header.Clone(), Host: r.Host}
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if err := c.CheckResponse(req, rec.status, rec.header, rec.body.Bytes()); err != nil {
			tb.Errorf("%v", err)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// recorder holds a response back for checking.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
