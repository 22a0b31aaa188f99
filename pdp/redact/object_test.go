package redact_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/redact"
)

func TestObject(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		paths   []string
		want    string
		removed []string
	}{
		{
			name:  "bare names reach nested claims and AuthZEN properties, not the action",
			doc:   `{"subject":{"claims":{"email":"a@x","sub":"a","profile":{"email":"b@x","tags":[{"email":"c@x"}]}},"properties":{"email":"d@x"}},"action":{"name":"read"},"context":{"email":"e@x"}}`,
			paths: []string{"email", "name"},
			want:  `{"subject":{"claims":{"sub":"a","profile":{"tags":[{}]}},"properties":{}},"action":{"name":"read"},"context":{"email":"e@x"},"redacted":["subject.claims.email","subject.claims.profile.email","subject.claims.profile.tags.0.email","subject.properties.email"]}`,
			removed: []string{"subject.claims.email", "subject.claims.profile.email", "subject.claims.profile.tags.0.email",
				"subject.properties.email"},
		},
		{
			name:    "rooted path with a wildcard",
			doc:     `{"context":{"cards":[{"number":"4111","brand":"visa"},{"number":"5500"}],"number":1}}`,
			paths:   []string{"context.cards.*.number"},
			want:    `{"context":{"cards":[{"brand":"visa"},{}],"number":1},"redacted":["context.cards.0.number","context.cards.1.number"]}`,
			removed: []string{"context.cards.0.number", "context.cards.1.number"},
		},
		{
			name:    "array elements become null",
			doc:     `{"context":{"phones":["1","2","3"]}}`,
			paths:   []string{"context.phones.1"},
			want:    `{"context":{"phones":["1",null,"3"]},"redacted":["context.phones.1"]}`,
			removed: []string{"context.phones.1"},
		},
		{
			name:    "anywhere",
			doc:     `{"a":{"ssn":1},"b":[{"c":{"ssn":2}}],"ssn":3}`,
			paths:   []string{"**.ssn"},
			want:    `{"a":{},"b":[{"c":{}}],"redacted":["a.ssn","b.0.c.ssn","ssn"]}`,
			removed: []string{"a.ssn", "b.0.c.ssn", "ssn"},
		},
		{
			name:    "a whole subtree and escaped keys",
			doc:     `{"subject":{"claims":{"https://ex.com/email":"a@x","x*y":1}},"resource":{"properties":{"secret":{"k":[1,2]}}}}`,
			paths:   []string{`https://ex\.com/email`, `subject.claims.x\*y`, "resource.properties.secret"},
			want:    `{"subject":{"claims":{}},"resource":{"properties":{}},"redacted":["subject.claims.https://ex\\.com/email","subject.claims.x\\*y","resource.properties.secret"]}`,
			removed: []string{`subject.claims.https://ex\.com/email`, `subject.claims.x\*y`, "resource.properties.secret"},
		},
		{
			name:    "JSON-escaped keys match their decoded name",
			doc:     `{"subject":{"claims":{"em\u0061il":"a@x","\u003cb\u003e":1,"q\"\\":2}}}`,
			paths:   []string{"email", "<b>", `q"\\`},
			want:    `{"subject":{"claims":{}},"redacted":["subject.claims.email","subject.claims.\u003cb\u003e","subject.claims.q\"\\\\"]}`,
			removed: []string{"subject.claims.email", "subject.claims.<b>", `subject.claims.q"\\`},
		},
		{
			name:  "nothing named: unchanged, no list",
			doc:   `{"subject":{"claims":{"sub":"a"}},"context":null}`,
			paths: []string{"email", "context.card"},
			want:  `{"subject":{"claims":{"sub":"a"}},"context":null}`,
		},
		{
			name:    "every member removed",
			doc:     `{"ssn":{"x":1}}`,
			paths:   []string{"**.ssn"},
			want:    `{"redacted":["ssn"]}`,
			removed: []string{"ssn"},
		},
		{
			name:    "whitespace is dropped where the walk descends, kept elsewhere",
			doc:     "{ \"subject\" : { \"claims\" : { \"email\" : \"a\" , \"sub\" : [ 1 , 2 ] } } , \"context\" : { \"a\" : 1 } }",
			paths:   []string{"email"},
			want:    `{"subject":{"claims":{"sub":[1,2]}},"context":{ "a" : 1 },"redacted":["subject.claims.email"]}`,
			removed: []string{"subject.claims.email"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := redact.Object([]byte(tc.doc), tc.paths)
			if err != nil {
				t.Fatal(err)
			}
			removed := removedOf(t, got)
			if string(got) != tc.want {
				t.Errorf("got\n %s\nwant\n %s", got, tc.want)
			}
			if !slices.Equal(removed, tc.removed) {
				t.Errorf("removed %q, want %q", removed, tc.removed)
			}
			if !json.Valid(got) {
				t.Errorf("output is not JSON: %s", got)
			}
		})
	}
}

// removedOf returns the "redacted" list of an output.
func removedOf(t *testing.T, out []byte) []string {
	t.Helper()
	var v struct {
		Redacted []string `json:"redacted"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	return v.Redacted
}

func TestObjectRejects(t *testing.T) {
	for _, doc := range []string{``, `[]`, `{"a":1`, `{"a" 1}`, `{"a":"x}`, `{"a":1}x`, `{"redacted":[]}`, `{"a":1,}`, `{"subject":{"claims":{"email":}}}`} {
		if _, err := redact.Object([]byte(doc), []string{"email"}); !errors.Is(err, redact.ErrSyntax) {
			t.Errorf("Object(%s) = %v, want ErrSyntax", doc, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, p := range []string{"email", "subject.claims.email", "context.*.n", "**.ssn", "a.**", "context.cards.0", `https://ex\.com/email`, `a\\b`} {
		if err := redact.Validate(p); err != nil {
			t.Errorf("Validate(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", ".", "a.", ".a", "a..b", "*", "**", "a.**.**.b", "em*", `a\`, `a\b`} {
		if err := redact.Validate(p); err == nil {
			t.Errorf("Validate(%q) accepted", p)
		}
	}
}

// TestObjectMatchesThePlainWalk compares Object with a plain walk over
// decoded values on generated documents and paths.
func TestObjectMatchesThePlainWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"subject", "claims", "properties", "email", "name", "a", "b", "x.y", "0"}
	segs := append([]string{"*", "**", `x\.y`}, keys[:7]...)
	for n := range 3000 {
		doc := map[string]any{}
		for range 1 + rng.IntN(4) {
			doc[keys[rng.IntN(len(keys))]] = genValue(rng, keys, 4)
		}
		var paths []string
		for range 1 + rng.IntN(3) {
			var p []string
			for range 1 + rng.IntN(4) {
				p = append(p, segs[rng.IntN(len(segs))])
			}
			s := strings.Join(p, ".")
			if redact.Validate(s) == nil {
				paths = append(paths, s)
			}
		}
		if len(paths) == 0 {
			continue
		}
		src, _ := json.Marshal(doc)
		got, err := redact.Object(src, paths)
		if err != nil {
			t.Fatalf("%d: Object(%s, %q): %v", n, src, paths, err)
		}
		removed := removedOf(t, got)
		var decoded map[string]any
		if err := json.Unmarshal(src, &decoded); err != nil {
			t.Fatal(err)
		}
		want, wantRemoved := plainRedact(decoded, paths)
		var gotDoc map[string]any
		if err := json.Unmarshal(got, &gotDoc); err != nil {
			t.Fatalf("%d: output %s: %v", n, got, err)
		}
		delete(gotDoc, redact.Member)
		slices.Sort(removed)
		slices.Sort(wantRemoved)
		if !reflect.DeepEqual(gotDoc, want) || !slices.Equal(removed, wantRemoved) {
			t.Fatalf("%d: paths %q over %s\n got %s %q\nwant %v %q", n, paths, src, got, removed, want, wantRemoved)
		}
	}
}

func genValue(rng *rand.Rand, keys []string, depth int) any {
	switch k := rng.IntN(5); {
	case depth == 0 || k == 0:
		return "v" + strconv.Itoa(rng.IntN(9))
	case k == 1:
		return float64(rng.IntN(9))
	case k == 2:
		var a []any
		for range rng.IntN(3) {
			a = append(a, genValue(rng, keys, depth-1))
		}
		return a
	default:
		m := map[string]any{}
		for range rng.IntN(4) {
			m[keys[rng.IntN(len(keys))]] = genValue(rng, keys, depth-1)
		}
		return m
	}
}

// plainRedact is the reference: it expands bare names and walks decoded
// values, trying every path at every position.
func plainRedact(doc map[string]any, paths []string) (map[string]any, []string) {
	var split [][]string
	for _, p := range paths {
		segs := splitPath(p)
		if len(segs) == 1 && segs[0] != "*" && segs[0] != "**" {
			split = append(split, append([]string{"subject", "claims", "**"}, segs...), append([]string{"subject", "properties", "**"}, segs...))
			continue
		}
		split = append(split, segs)
	}
	var removed []string
	var walk func(v any, at []string) any
	walk = func(v any, at []string) any {
		switch v := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, c := range v {
				p := append(slices.Clone(at), k)
				if anyMatch(split, p) {
					removed = append(removed, joinPath(p))
					continue
				}
				out[k] = walk(c, p)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, c := range v {
				p := append(slices.Clone(at), strconv.Itoa(i))
				if anyMatch(split, p) {
					removed = append(removed, joinPath(p))
					continue
				}
				out[i] = walk(c, p)
			}
			return out
		}
		return v
	}
	return walk(doc, nil).(map[string]any), removed
}

func splitPath(p string) []string {
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
			cur.WriteByte(p[i])
		case '.':
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(p[i])
		}
	}
	return append(segs, cur.String())
}

func joinPath(p []string) string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		for _, c := range []byte(s) {
			if c == '.' || c == '*' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

func anyMatch(paths [][]string, p []string) bool {
	for _, segs := range paths {
		if match(segs, p) {
			return true
		}
	}
	return false
}

// match reports whether segs names exactly p; in segs "*" is one level
// and "**" any number. Note that "*" and "**" in segs are wildcards, while
// escaped ones were unescaped to literal keys by splitPath, which the
// generator never produces.
func match(segs, p []string) bool {
	if len(segs) == 0 {
		return len(p) == 0
	}
	if segs[0] == "**" {
		for i := 0; i <= len(p); i++ {
			if match(segs[1:], p[i:]) {
				return true
			}
		}
		return false
	}
	if len(p) == 0 || (segs[0] != "*" && segs[0] != p[0]) {
		return false
	}
	return match(segs[1:], p[1:])
}

func ExampleObject() {
	in := `{"subject":{"claims":{"sub":"u1","email":"u1@example.com"},"properties":{"email":"u1@example.com"}},"action":{"name":"read"}}`
	out, _ := redact.Object([]byte(in), []string{"email", "name"})
	fmt.Println(string(out))
	// Output: {"subject":{"claims":{"sub":"u1"},"properties":{}},"action":{"name":"read"},"redacted":["subject.claims.email","subject.properties.email"]}
}
