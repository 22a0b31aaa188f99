package authzentest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/pdphttp"
)

const validEvaluation = `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`

// TestAuthZENHTTPRules covers every request rule: media type, body shape,
// required entities and members, member types, unknown fields, client key.
func TestAuthZENHTTPRules(t *testing.T) {
	srv := startAuthZEN(t, bundleRevision(t, "certification"), serverOptions{})
	big := `{"subject":{"type":"user","id":"alice","properties":{"pad":"` + strings.Repeat("x", 70<<10) + `"}},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`
	tests := []struct {
		name        string
		path        string
		contentType string
		body        string
		noKey       bool
		status      int
		desc        string // substring of error_description, or of the body for 200
	}{
		{name: "valid", contentType: "application/json", body: validEvaluation, status: 200, desc: `{"decision":true}`},
		{name: "charset parameter accepted", contentType: "application/json; charset=utf-8", body: validEvaluation, status: 200, desc: `{"decision":true}`},
		{name: "no content type", body: validEvaluation, status: 400, desc: "Content-Type must be application/json"},
		{name: "text/plain", contentType: "text/plain", body: validEvaluation, status: 400, desc: "Content-Type must be application/json"},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: validEvaluation, status: 400, desc: "Content-Type"},
		{name: "malformed JSON", contentType: "application/json", body: `{"subject": {`, status: 400, desc: "malformed JSON"},
		{name: "empty body", contentType: "application/json", body: ``, status: 400, desc: "empty"},
		{name: "array body", contentType: "application/json", body: `[` + validEvaluation + `]`, status: 400, desc: "must be a JSON object"},
		{name: "string body", contentType: "application/json", body: `"read"`, status: 400, desc: "must be a JSON object"},
		{name: "trailing data", contentType: "application/json", body: validEvaluation + `{}`, status: 400, desc: "after the JSON value"},
		{name: "duplicate key", contentType: "application/json", body: `{"subject":{"type":"user","id":"a","id":"b"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "duplicate key"},
		{name: "missing subject", contentType: "application/json", body: `{"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject is required"},
		{name: "null subject", contentType: "application/json", body: `{"subject":null,"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject is required"},
		{name: "missing action", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "action is required"},
		{name: "missing resource", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"}}`, status: 400, desc: "resource is required"},
		{name: "subject without type", contentType: "application/json", body: `{"subject":{"id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject.type is required"},
		{name: "subject without id", contentType: "application/json", body: `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject.id is required"},
		{name: "empty subject id", contentType: "application/json", body: `{"subject":{"type":"user","id":""},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject.id must not be empty"},
		{name: "action without name", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"action":{},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "action.name is required"},
		{name: "resource without type", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"id":"record-1"}}`, status: 400, desc: "resource.type is required"},
		{name: "resource without id", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record"}}`, status: 400, desc: "resource.id is required"},
		{name: "subject is a string", contentType: "application/json", body: `{"subject":"alice","action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject must be an object"},
		{name: "subject id is a number", contentType: "application/json", body: `{"subject":{"type":"user","id":42},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject.id must be a string"},
		{name: "action name is a number", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":123},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "action.name must be a string"},
		{name: "resource type is a bool", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":true,"id":"record-1"}}`, status: 400, desc: "resource.type must be a string"},
		{name: "properties not an object", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice","properties":"admin"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject.properties must be an object"},
		{name: "action properties not an object", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read","properties":[1]},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "action.properties must be an object"},
		{name: "context not an object", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"context":[]}`, status: 400, desc: "context must be an object"},
		{name: "token not a string", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice","properties":{"token":5}},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject.properties.token must be a string"},
		{name: "unknown fields ignored everywhere", contentType: "application/json", body: `{"subject":{"type":"user","id":"alice","x":1},"action":{"name":"read","y":[]},"resource":{"type":"record","id":"record-1","z":{}},"foo":"bar","futureField":{"nested":true}}`, status: 200, desc: `{"decision":true}`},
		{name: "oversized body", contentType: "application/json", body: big, status: 413, desc: "too large"},
		{name: "no client key", contentType: "application/json", body: validEvaluation, noKey: true, status: 401, desc: "client key"},
		{name: "batch: evaluations not an array", path: pdphttp.PathEvaluations, contentType: "application/json", body: `{"evaluations":{}}`, status: 400, desc: "evaluations must be an array"},
		{name: "batch: options not an object", path: pdphttp.PathEvaluations, contentType: "application/json", body: `{"options":"all","evaluations":[` + validEvaluation + `]}`, status: 400, desc: "options must be an object"},
		{name: "batch: unknown semantic", path: pdphttp.PathEvaluations, contentType: "application/json", body: `{"options":{"evaluations_semantic":"first"},"evaluations":[` + validEvaluation + `]}`, status: 400, desc: "evaluations_semantic must be"},
		{name: "batch: too many items", path: pdphttp.PathEvaluations, contentType: "application/json", body: `{"evaluations":[` + strings.TrimSuffix(strings.Repeat(validEvaluation+",", 101), ",") + `]}`, status: 400, desc: "at most 100"},
		{name: "batch: no items and no entities", path: pdphttp.PathEvaluations, contentType: "application/json", body: `{"evaluations":[]}`, status: 400, desc: "subject is required"},
		{name: "batch: content type", path: pdphttp.PathEvaluations, contentType: "text/plain", body: `{"evaluations":[]}`, status: 400, desc: "Content-Type"},
		{name: "subject search: resource without id", path: pdphttp.PathSearchSubject, contentType: "application/json", body: `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record"}}`, status: 400, desc: "resource.id is required"},
		{name: "subject search: searched subject without type", path: pdphttp.PathSearchSubject, contentType: "application/json", body: `{"subject":{},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject.type is required"},
		{name: "resource search: subject without id", path: pdphttp.PathSearchResource, contentType: "application/json", body: `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record"}}`, status: 400, desc: "subject.id is required"},
		{name: "resource search: missing action", path: pdphttp.PathSearchResource, contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record"}}`, status: 400, desc: "action is required"},
		{name: "action search: missing resource", path: pdphttp.PathSearchAction, contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"}}`, status: 400, desc: "resource is required"},
		{name: "action search: searched id wrongly typed", path: pdphttp.PathSearchSubject, contentType: "application/json", body: `{"subject":{"type":"user","id":7},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400, desc: "subject.id must be a string"},
		{name: "search: page not an object", path: pdphttp.PathSearchAction, contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":3}`, status: 400, desc: "page must be an object"},
		{name: "search: page.limit zero", path: pdphttp.PathSearchAction, contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":{"limit":0}}`, status: 400, desc: "page.limit must be an integer"},
		{name: "search: page.limit fractional", path: pdphttp.PathSearchAction, contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":{"limit":1.5}}`, status: 400, desc: "page.limit must be an integer"},
		{name: "search: page.limit string", path: pdphttp.PathSearchAction, contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":{"limit":"5"}}`, status: 400, desc: "page.limit must be a number"},
		{name: "search: page.limit too big", path: pdphttp.PathSearchAction, contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":{"limit":100000}}`, status: 400, desc: "page.limit must be an integer"},
		{name: "search: forged page.token", path: pdphttp.PathSearchAction, contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":{"token":"not-a-token!"}}`, status: 400, desc: "page.token is not a token"},
		{name: "search: page.token not a string", path: pdphttp.PathSearchAction, contentType: "application/json", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":{"token":1}}`, status: 400, desc: "page.token must be a string"},
		{name: "search: content type", path: pdphttp.PathSearchAction, contentType: "text/json", body: `{}`, status: 400, desc: "Content-Type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := cmpOr(tc.path, pdphttp.PathEvaluation)
			headers := map[string]string{"X-Request-ID": "req-" + strings.ReplaceAll(tc.name, " ", "-")}
			if tc.noKey {
				headers["Authorization"] = ""
			}
			res := srv.do(t, http.MethodPost, path, tc.contentType, []byte(tc.body), headers)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			if got := res.header.Get("X-Request-ID"); got != headers["X-Request-ID"] {
				t.Errorf("X-Request-ID %q, want it echoed", got)
			}
			if tc.status == 200 {
				if !strings.Contains(string(res.body), tc.desc) {
					t.Errorf("body %s, want %s", res.body, tc.desc)
				}
				return
			}
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(res.body, &e); err != nil || e.Error == "" {
				t.Fatalf("error body %s: %v", res.body, err)
			}
			if !strings.Contains(e.Description, tc.desc) {
				t.Errorf("error_description %q, want it to mention %q", e.Description, tc.desc)
			}
		})
	}
}

// TestAuthZENRequestIDGenerated: without X-Request-ID the server makes one,
// on success and on error alike, and a different one each time.
func TestAuthZENRequestIDGenerated(t *testing.T) {
	srv := startAuthZEN(t, bundleRevision(t, "certification"), serverOptions{})
	seen := map[string]bool{}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   string
		status int
	}{
		{name: "evaluation", method: http.MethodPost, path: pdphttp.PathEvaluation, body: validEvaluation, status: 200},
		{name: "bad request", method: http.MethodPost, path: pdphttp.PathEvaluation, body: `{}`, status: 400},
		{name: "metadata", method: http.MethodGet, path: pdphttp.PathAuthZENConfig, status: 200},
		{name: "wrong method", method: http.MethodGet, path: pdphttp.PathEvaluation, status: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := srv.do(t, tc.method, tc.path, "application/json", []byte(tc.body), nil)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			id := res.header.Get("X-Request-ID")
			if id == "" || seen[id] {
				t.Fatalf("X-Request-ID %q: want a fresh generated id", id)
			}
			seen[id] = true
		})
	}
}
