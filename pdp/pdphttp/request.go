package pdphttp

import (
	"fmt"

	"github.com/stepgate/stepgate/pdp"
)

// MaxBatch is the largest batch /v1/decisions accepts.
const MaxBatch = 100

var requestFields = []string{"token", "claims", "action", "resource", "context", "return_to", "session_id"}

// ParseRequest decodes one native decision request body. Unknown top-level
// fields are rejected (a misspelt "acton" must not silently change what is
// decided); anything may appear inside resource.properties and context.
// There is no `now` field: the caller can never supply the clock.
func ParseRequest(body []byte) (*pdp.Request, error) {
	v, err := DecodeJSON(body)
	if err != nil {
		return nil, invalidf("%s", err)
	}
	return requestFromValue("", v)
}

func requestFromValue(path string, v any) (*pdp.Request, error) {
	f, err := newFields(path, v)
	if err != nil {
		return nil, err
	}
	f.only(requestFields...)
	r := &pdp.Request{
		Token:    f.str("token"),
		Action:   f.str("action"),
		ReturnTo: f.str("return_to"),
		Resource: f.resource("resource"),
		// session_id: the app's session, for step-up elevations.
		SessionID: f.str("session_id"),
	}
	if claims, ok := f.object("claims"); ok {
		r.Claims = claims
	}
	r.Context, _ = f.object("context")
	if f.err != nil {
		return nil, f.err
	}
	return r, nil
}

// ParseBatch decodes {"requests": [...]} with 1 to MaxBatch requests.
func ParseBatch(body []byte) ([]*pdp.Request, error) {
	v, err := DecodeJSON(body)
	if err != nil {
		return nil, invalidf("%s", err)
	}
	f, err := newFields("", v)
	if err != nil {
		return nil, err
	}
	f.only("requests")
	if f.err != nil {
		return nil, f.err
	}
	items, ok := f.obj["requests"].([]any)
	switch {
	case !ok:
		return nil, invalidf("requests must be an array of decision requests")
	case len(items) == 0:
		return nil, invalidf("requests must not be empty")
	case len(items) > MaxBatch:
		return nil, invalidf("requests has %d items, at most %d are allowed", len(items), MaxBatch)
	}
	out := make([]*pdp.Request, len(items))
	for i, it := range items {
		r, err := requestFromValue(fmt.Sprintf("requests[%d]", i), it)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}
