package authzen

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
)

func TestAZCursor(t *testing.T) {
	tok := encodeCursor("record\x00105", "fp1")
	tests := []struct {
		name, token, fp, want string
		invalid               bool
	}{
		{name: "no token", token: "", fp: "fp1", want: ""},
		{name: "round trip", token: tok, fp: "fp1", want: "record\x00105"},
		{name: "other request", token: tok, fp: "fp2", invalid: true},
		{name: "not base64", token: "***", fp: "fp1", invalid: true},
		{name: "not JSON", token: "bm9wZQ", fp: "fp1", invalid: true},
		{name: "empty key", token: encodeCursor("", "fp1"), fp: "fp1", invalid: true},
		{name: "too long", token: strings.Repeat("A", maxCursorLen+1), fp: "fp1", invalid: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeCursor(tc.token, tc.fp)
			if tc.invalid {
				if !errors.Is(err, clientauth.ErrInvalidRequest) {
					t.Fatalf("err %v, want ErrInvalidRequest", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestAZSearchFingerprint(t *testing.T) {
	base := func() *policy.Input {
		return &policy.Input{Subject: policy.Subject{Type: "user"}, Action: policy.Action{Name: "view"}, Resource: policy.Resource{Type: "record", ID: "1"}}
	}
	ref := searchFingerprint(SearchSubject, base())
	same := base()
	same.Subject.ID, same.Subject.Properties = "ignored", map[string]any{"x": 1}
	if searchFingerprint(SearchSubject, same) != ref {
		t.Error("the searched entity's id and properties changed the fingerprint")
	}
	for name, mod := range map[string]func(*policy.Input){
		"action":   func(in *policy.Input) { in.Action.Name = "edit" },
		"resource": func(in *policy.Input) { in.Resource.ID = "2" },
		"context":  func(in *policy.Input) { in.Context = map[string]any{"ip": "10.0.0.1"} },
		"type":     func(in *policy.Input) { in.Subject.Type = "group" },
	} {
		in := base()
		mod(in)
		if searchFingerprint(SearchSubject, in) == ref {
			t.Errorf("changing the %s kept the fingerprint", name)
		}
	}
	if searchFingerprint(SearchResource, base()) == ref {
		t.Error("the kind is not part of the fingerprint")
	}
}

func TestAZParseCandidate(t *testing.T) {
	tests := []struct {
		name string
		kind SearchKind
		v    any
		key  string
		err  bool
	}{
		{name: "entity", kind: SearchSubject, v: map[string]any{"type": "user", "id": "alice"}, key: "user\x00alice"},
		{name: "entity with properties", kind: SearchResource, v: map[string]any{"type": "doc", "id": "1", "properties": map[string]any{"a": true}}, key: "doc\x001"},
		{name: "entity without id", kind: SearchResource, v: map[string]any{"type": "doc"}, err: true},
		{name: "numeric id", kind: SearchResource, v: map[string]any{"type": "doc", "id": 1}, err: true},
		{name: "not an object", kind: SearchSubject, v: "alice", err: true},
		{name: "properties not an object", kind: SearchSubject, v: map[string]any{"type": "user", "id": "a", "properties": []any{}}, err: true},
		{name: "action name", kind: SearchAction, v: "view", key: "view"},
		{name: "action object", kind: SearchAction, v: map[string]any{"name": "edit"}, key: "edit"},
		{name: "empty action", kind: SearchAction, v: map[string]any{"name": ""}, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseCandidate(tc.kind, tc.v)
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error %v", err, tc.err)
			}
			if err == nil && c.key != tc.key {
				t.Errorf("key %q, want %q", c.key, tc.key)
			}
		})
	}
}

// azTxStore is a TransactionStore that is never used by these searches.
type azTxStore struct{}

func (azTxStore) CreateStepUp(context.Context, stepup.Transaction) error { return nil }
func (azTxStore) ConsumeStepUp(context.Context, string, string, time.Time) (stepup.Transaction, error) {
	return stepup.Transaction{}, stepup.ErrTransactionNotFound
}

const azDecisionModule = `package stepgate
decision := {"decision": "allow"} if input.resource.id in {"a", "c"}
else := {"decision": "deny"}
`

// azSearcher builds a Searcher over a policy whose search.resources rule is
// candidates; loads counts calls of the revision source.
func azSearcher(t *testing.T, candidates string, maxCandidates int) (*Searcher, *policy.Engine, *int) {
	t.Helper()
	files := policy.Files{"stepgate/policy.rego": []byte(azDecisionModule),
		"stepgate/search/c.rego": []byte("package stepgate.search\nresources := " + candidates + "\n")}
	rev := policy.Revision{ID: 3, Hash: files.Hash(), Files: files}
	engine := policy.NewEngine(policy.EngineConfig{})
	if err := engine.Load(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: verifier, Transactions: azTxStore{}})
	if err != nil {
		t.Fatal(err)
	}
	loads := new(int)
	s, err := NewSearcher(SearcherConfig{Service: svc, MaxCandidates: maxCandidates, Revision: func(context.Context, int64) (policy.Revision, error) {
		*loads++
		return rev, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s, engine, loads
}

func azResourceSearch(limit int, token string) SearchRequest {
	return SearchRequest{Kind: SearchResource, Limit: limit, Token: token, Input: &policy.Input{
		Subject: policy.Subject{Type: "user", ID: "u"}, Action: policy.Action{Name: "view"}, Resource: policy.Resource{Type: "doc"}}}
}

func TestAZSearcher(t *testing.T) {
	ctx := context.Background()
	t.Run("filters by type, dedupes, sorts and keeps what the decision allows", func(t *testing.T) {
		s, _, loads := azSearcher(t, `[{"type":"doc","id":"c"},{"type":"doc","id":"a"},{"type":"doc","id":"b"},{"type":"img","id":"a"},{"type":"doc","id":"a"}]`, 0)
		p, err := s.Search(ctx, clientauth.Client{ID: "c"}, azResourceSearch(0, ""))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Results) != 2 || p.Results[0].ID != "a" || p.Results[1].ID != "c" || p.NextToken != "" {
			t.Fatalf("page %+v", p)
		}
		p1, err := s.Search(ctx, clientauth.Client{ID: "c"}, azResourceSearch(1, ""))
		if err != nil || len(p1.Results) != 1 || p1.NextToken == "" {
			t.Fatalf("first page %+v, %v", p1, err)
		}
		p2, err := s.Search(ctx, clientauth.Client{ID: "c"}, azResourceSearch(1, p1.NextToken))
		if err != nil || len(p2.Results) != 1 || p2.Results[0].ID != "c" || p2.NextToken != "" {
			t.Fatalf("second page %+v, %v", p2, err)
		}
		if *loads != 1 {
			t.Errorf("revision loaded %d times, want once per revision", *loads)
		}
	})
	t.Run("malformed rule", func(t *testing.T) {
		s, _, _ := azSearcher(t, `42`, 0)
		if _, err := s.Search(ctx, clientauth.Client{}, azResourceSearch(0, "")); !errors.Is(err, ErrSearchPolicy) {
			t.Fatalf("err %v, want ErrSearchPolicy", err)
		}
	})
	t.Run("malformed candidate", func(t *testing.T) {
		s, _, _ := azSearcher(t, `[{"type":"doc"}]`, 0)
		if _, err := s.Search(ctx, clientauth.Client{}, azResourceSearch(0, "")); !errors.Is(err, ErrSearchPolicy) {
			t.Fatalf("err %v, want ErrSearchPolicy", err)
		}
	})
	t.Run("too many candidates", func(t *testing.T) {
		s, _, _ := azSearcher(t, `[{"type":"doc","id":"a"},{"type":"doc","id":"b"}]`, 1)
		if _, err := s.Search(ctx, clientauth.Client{}, azResourceSearch(0, "")); !errors.Is(err, ErrSearchPolicy) {
			t.Fatalf("err %v, want ErrSearchPolicy", err)
		}
	})
	t.Run("bad limit", func(t *testing.T) {
		s, _, _ := azSearcher(t, `[]`, 0)
		for _, limit := range []int{-1, MaxSearchLimit + 1} {
			if _, err := s.Search(ctx, clientauth.Client{}, azResourceSearch(limit, "")); !errors.Is(err, clientauth.ErrInvalidRequest) {
				t.Errorf("limit %d: err %v, want ErrInvalidRequest", limit, err)
			}
		}
	})
	t.Run("revision source out of step with the engine", func(t *testing.T) {
		s, engine, _ := azSearcher(t, `[]`, 0)
		other := policy.Files{"stepgate/policy.rego": []byte(azDecisionModule + "\n# changed\n")}
		if err := engine.Load(ctx, policy.Revision{ID: 4, Hash: other.Hash(), Files: other}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Search(ctx, clientauth.Client{}, azResourceSearch(0, "")); err == nil || !strings.Contains(err.Error(), "active policy 4") {
			t.Fatalf("err %v, want a revision mismatch", err)
		}
	})
}
