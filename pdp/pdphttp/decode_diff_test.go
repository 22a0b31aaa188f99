package pdphttp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// decodeCorpus covers every JSON construct and every way DecodeJSON fails.
var decodeCorpus = []struct {
	name string
	body string
}{
	{"object", `{"a":1,"b":"x","c":true,"d":false,"e":null,"f":[1,2,{"g":-1.5e-3}],"h":{}}`},
	{"whitespace everywhere", " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \n"},
	{"top-level scalars", `"just a string"`},
	{"top-level number", `-0.25E+7`},
	{"top-level null", `null`},
	{"empty array", `{"a":[]}`},
	{"escapes", `{"a":"tab\tquote\"slash\/back\\nl\nuni\u00e9\ud83d\ude00"}`},
	{"utf-8 as is", `{"ключ":"значение ✓"}`},
	{"invalid utf-8", "{\"a\":\"\xff\xfe ok\"}"},
	{"lone surrogate", `{"a":"\ud800x"}`},
	{"nul escape", `{"a":"x\u0000y"}`},
	{"duplicate key", `{"a":1,"a":2}`},
	{"duplicate nested key", `{"a":{"b":1,"b":1}}`},
	{"trailing data", `{} x`},
	{"two values", `{}{}`},
	{"trailing comma object", `{"a":1,}`},
	{"trailing comma array", `[1,]`},
	{"missing colon", `{"a" 1}`},
	{"unquoted key", `{a:1}`},
	{"unterminated string", `{"a":"x`},
	{"unterminated object", `{"claims":`},
	{"control character", "{\"a\":\"x\ny\"}"},
	{"bad escape", `{"a":"\q"}`},
	{"bad unicode escape", `{"a":"\u12g4"}`},
	{"leading zero", `[01]`},
	{"bare minus", `[-]`},
	{"dot without digits", `[1.]`},
	{"exponent without digits", `[1e]`},
	{"bad literal", `[tru]`},
	{"truncated literal", `[nul`},
	{"empty", ``},
	{"only whitespace", "  \n"},
	{"deep but allowed", strings.Repeat("[", 32) + strings.Repeat("]", 32)},
	{"too deep", strings.Repeat("[", 33) + strings.Repeat("]", 33)},
	{"too many members", "[" + strings.Repeat("1,", MaxMembers) + "1]"},
	{"exactly max members", "[" + strings.Repeat("1,", MaxMembers-1) + "1]"},
}

func TestDecodeJSONMatchesReference(t *testing.T) {
	for _, tc := range decodeCorpus {
		t.Run(tc.name, func(t *testing.T) {
			assertSameDecoding(t, []byte(tc.body))
		})
	}
}

func FuzzDecodeJSONMatchesReference(f *testing.F) {
	for _, tc := range decodeCorpus {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { assertSameDecoding(t, body) })
}

// assertSameDecoding checks that DecodeJSON and the encoding/json based
// reference accept and reject the same body and return equal values.
func assertSameDecoding(t *testing.T, body []byte) {
	t.Helper()
	got, err := DecodeJSON(body)
	want, refErr := referenceDecodeJSON(body)
	if (err == nil) != (refErr == nil) {
		t.Fatalf("DecodeJSON(%q): error %v, reference error %v", body, err, refErr)
	}
	if err != nil {
		if !errors.Is(err, ErrBadJSON) {
			t.Fatalf("DecodeJSON(%q): %v does not wrap ErrBadJSON", body, err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeJSON(%q) = %#v, reference %#v", body, got, want)
	}
}
