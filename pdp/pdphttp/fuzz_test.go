package pdphttp_test

import (
	"errors"
	"testing"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdphttp"
)

// FuzzParseRequest feeds arbitrary bytes to the decoder: it must never
// panic, and whatever it accepts must be a well-formed request or a clear
// invalid_request error.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"token":"a.b.c","action":"billing.view"}`,
		`{"claims":{"sub":"u","amr":["pwd","mfa"],"auth_time":1763769500},"action":"billing.pay","context":{"amount":120000,"channel":"pos"}}`,
		`{"claims":{"sub":"u"},"action":"x","resource":{"type":"invoice","id":"inv_42","properties":{"a":[1,2,{"b":null}]}}}`,
		`{"claims":{"sub":"u"},"action":"x","action":"y"}`,
		`{"claims":{"sub":"u"},"action":"x"} trailing`,
		`{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":1}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}`,
		`{"claims":{"sub":"u"},"action":"x","context":{"n":1e400}}`,
		"{\"claims\":{\"sub\":\"\xff\"},\"action\":\"x\"}",
		`[]`, `null`, `"s"`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := pdphttp.ParseRequest(body)
		if err != nil {
			if !errors.Is(err, clientauth.ErrInvalidRequest) {
				t.Fatalf("error %v does not wrap ErrInvalidRequest", err)
			}
			if r != nil {
				t.Fatal("request returned with an error")
			}
			return
		}
		if r == nil {
			t.Fatal("nil request without an error")
		}
		// Whatever was accepted must also validate without panicking.
		_ = r.Validate(clientauth.Client{ID: "c", AssertClaims: true})
	})
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"a":[1,"x",true,null,{"b":1.5e3}]}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := pdphttp.DecodeJSON(body)
		if err == nil && v == nil && string(body) != "null" && len(body) > 0 {
			// null decodes to nil legitimately; anything else must be a value.
			trimmed := string(body)
			for len(trimmed) > 0 && (trimmed[0] == ' ' || trimmed[0] == '\n' || trimmed[0] == '\t' || trimmed[0] == '\r') {
				trimmed = trimmed[1:]
			}
			if len(trimmed) < 4 || trimmed[:4] != "null" {
				t.Fatalf("nil value without error for %q", body)
			}
		}
	})
}
