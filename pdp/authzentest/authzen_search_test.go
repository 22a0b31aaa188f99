package authzentest

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

type searchBody struct {
	Results []json.RawMessage `json:"results"`
	Page    struct {
		NextToken *string `json:"next_token"`
	} `json:"page"`
}

func decodeSearch(tb testing.TB, res response) searchBody {
	tb.Helper()
	if res.status != 200 {
		tb.Fatalf("status %d: %s", res.status, res.body)
	}
	var b searchBody
	if err := json.Unmarshal(res.body, &b); err != nil || b.Results == nil || b.Page.NextToken == nil {
		tb.Fatalf("search response %s: want results and page.next_token (%v)", res.body, err)
	}
	return b
}

// TestAuthZENSearchPaging walks a 20-result resource search in pages and
// checks that the pages add up to the unpaged answer, the last next_token is
// "", and a token only works for the request it came from.
func TestAuthZENSearchPaging(t *testing.T) {
	srv := startAuthZEN(t, bundleRevision(t, "search"), serverOptions{})
	req := func(limit int, token string) map[string]any {
		r := map[string]any{"subject": map[string]any{"type": "user", "id": "alice"}, "action": map[string]any{"name": "view"},
			"resource": map[string]any{"type": "record"}}
		page := map[string]any{}
		if limit > 0 {
			page["limit"] = limit
		}
		if token != "" {
			page["token"] = token
		}
		r["page"] = page
		return r
	}
	all := decodeSearch(t, srv.post(t, pdphttp.PathSearchResource, req(0, "")))
	if len(all.Results) != 20 || *all.Page.NextToken != "" {
		t.Fatalf("unpaged search: %d results, next_token %q", len(all.Results), *all.Page.NextToken)
	}
	for _, limit := range []int{1, 3, 7, 20} {
		var got []json.RawMessage
		token, pages := "", 0
		for {
			b := decodeSearch(t, srv.post(t, pdphttp.PathSearchResource, req(limit, token)))
			pages++
			if len(b.Results) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(b.Results))
			}
			got = append(got, b.Results...)
			if token = *b.Page.NextToken; token == "" {
				break
			}
			if pages > 20 {
				t.Fatalf("limit %d: paging does not end", limit)
			}
		}
		if want := (20 + limit - 1) / limit; pages != want {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, want)
		}
		if !slices.EqualFunc(got, all.Results, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
			t.Errorf("limit %d: pages add up to %s, want %s", limit, got, all.Results)
		}
	}
	first := decodeSearch(t, srv.post(t, pdphttp.PathSearchResource, req(2, "")))
	other := req(2, *first.Page.NextToken)
	other["action"] = map[string]any{"name": "edit"}
	if res := srv.post(t, pdphttp.PathSearchResource, other); res.status != http.StatusBadRequest {
		t.Errorf("token reused for another search: status %d %s, want 400", res.status, res.body)
	}
}

// TestAuthZENSearchFindsNothing: unknown types and ids, a subject whose
// token fails verification and a policy without search rules give an empty
// result, never an error.
func TestAuthZENSearchFindsNothing(t *testing.T) {
	srv := startAuthZEN(t, bundleRevision(t, "search"), serverOptions{})
	tests := []struct {
		name string
		path string
		body string
	}{
		{name: "unknown subject type", path: pdphttp.PathSearchSubject, body: `{"subject":{"type":"robot"},"action":{"name":"view"},"resource":{"type":"record","id":"101"}}`},
		{name: "unknown resource id", path: pdphttp.PathSearchSubject, body: `{"subject":{"type":"user"},"action":{"name":"view"},"resource":{"type":"record","id":"999"}}`},
		{name: "unknown subject id", path: pdphttp.PathSearchAction, body: `{"subject":{"type":"user","id":"zoe"},"resource":{"type":"record","id":"101"}}`},
		{name: "unknown action", path: pdphttp.PathSearchResource, body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"print"},"resource":{"type":"record"}}`},
		{name: "rejected subject token", path: pdphttp.PathSearchResource, body: `{"subject":{"type":"user","id":"alice","properties":{"token":"x.y.z"}},"action":{"name":"view"},"resource":{"type":"record"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := decodeSearch(t, srv.do(t, http.MethodPost, tc.path, "application/json", []byte(tc.body), nil))
			if len(b.Results) != 0 || *b.Page.NextToken != "" {
				t.Errorf("results %s next_token %q, want none", b.Results, *b.Page.NextToken)
			}
		})
	}
	t.Run("policy without search rules", func(t *testing.T) {
		plain := startAuthZEN(t, fsRevision(t, policies.Bundle()), serverOptions{})
		b := decodeSearch(t, plain.do(t, http.MethodPost, pdphttp.PathSearchAction, "application/json",
			[]byte(`{"subject":{"type":"user","id":"u"},"resource":{"type":"invoice","id":"i"}}`), nil))
		if len(b.Results) != 0 {
			t.Errorf("results %s, want none", b.Results)
		}
	})
}

// TestAuthZENMetadata checks the PDP metadata with a configured base URL.
func TestAuthZENMetadata(t *testing.T) {
	srv := startAuthZEN(t, bundleRevision(t, "search"), serverOptions{baseURL: "https://pdp.example.com/"})
	res := srv.do(t, http.MethodGet, pdphttp.PathAuthZENConfig, "", nil, map[string]string{"Authorization": ""})
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	want := `{"policy_decision_point":"https://pdp.example.com",` +
		`"access_evaluation_endpoint":"https://pdp.example.com/access/v1/evaluation",` +
		`"access_evaluations_endpoint":"https://pdp.example.com/access/v1/evaluations",` +
		`"search_subject_endpoint":"https://pdp.example.com/access/v1/search/subject",` +
		`"search_resource_endpoint":"https://pdp.example.com/access/v1/search/resource",` +
		`"search_action_endpoint":"https://pdp.example.com/access/v1/search/action"}`
	if got := compact(t, res.body); got != want {
		t.Errorf("metadata\n got %s\nwant %s", got, want)
	}
}

// TestAuthZENBundlesRegoTests runs the Rego unit tests shipped with every
// interop bundle.
func TestAuthZENBundlesRegoTests(t *testing.T) {
	root := filepath.Join(repoRoot(t), "testdata", "authzen")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			var fsys fs.FS = os.DirFS(filepath.Join(root, e.Name()))
			results, err := policies.RunTests(context.Background(), fsys)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) == 0 {
				t.Fatal("bundle has no Rego tests")
			}
			for _, r := range results {
				if !r.Pass {
					t.Errorf("%s.%s (%s) failed: %s", r.Package, r.Name, r.Location, r.Error)
				}
			}
		})
	}
}

// TestAuthZENSearchVerifiesSubjectToken: in a resource search the subject's
// token is verified and its sub, not the asserted id, is who is searched for.
func TestAuthZENSearchVerifiesSubjectToken(t *testing.T) {
	idp := pdptest.NewIssuer(t)
	srv := startAuthZEN(t, bundleRevision(t, "search"), serverOptions{issuers: []trust.IssuerConfig{idp.Config()}})
	now := time.Now().Unix()
	tok := idp.Mint(t, map[string]any{"sub": "bob", "aud": pdptest.DefaultAudience, "iat": now, "exp": now + 300})
	b := decodeSearch(t, srv.post(t, pdphttp.PathSearchResource, map[string]any{
		"subject":  map[string]any{"type": "user", "id": "alice", "properties": map[string]any{"token": tok}},
		"action":   map[string]any{"name": "delete"},
		"resource": map[string]any{"type": "record"},
	}))
	want := []string{`{"type":"record","id":"102"}`, `{"type":"record","id":"108"}`, `{"type":"record","id":"114"}`, `{"type":"record","id":"120"}`}
	got := make([]string, len(b.Results))
	for i, r := range b.Results {
		got[i] = compact(t, r)
	}
	if !slices.Equal(got, want) {
		t.Errorf("results %v, want bob's records %v", got, want)
	}
}
