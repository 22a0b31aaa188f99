package authzentest

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// certCase is one case of the transcribed AuthZEN certification scenario.
type certCase struct {
	ID         string            `json:"id"`
	Endpoint   string            `json:"endpoint"`
	Method     string            `json:"method"`
	Request    json.RawMessage   `json:"request"`
	RequestRaw *certRaw          `json:"request_raw"`
	Headers    map[string]string `json:"headers"`
	Repeat     int               `json:"repeat"`
	Expected   certExpected      `json:"expected"`
}

type certRaw struct {
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

type certExpected struct {
	Status           int               `json:"status"`
	Decision         *bool             `json:"decision"`
	Evaluations      []bool            `json:"evaluations"`
	EvaluationsCount *int              `json:"evaluations_count"`
	Index1Decision   *bool             `json:"evaluation_index_1_decision"`
	ResultsInclude   []json.RawMessage `json:"results_include"`
	ResultsExact     []json.RawMessage `json:"results_exact"`
	ResultsIsArray   bool              `json:"results_is_array"`
	ResponseHeaders  map[string]string `json:"response_headers"`
	ContentType      string            `json:"content_type"`
	RequiredFields   []string          `json:"required_fields"`
}

// TestAuthZENCertification runs the certification scenario's cases (HTTP
// rules, batch semantics, search, discovery) against the fixture bundle.
func TestAuthZENCertification(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(authzenDataDir(t), "certification", "certification-cases.derived.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []certCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no certification cases")
	}
	srv := startAuthZEN(t, bundleRevision(t, "certification"), serverOptions{})
	nextToken := ""
	for _, c := range file.Cases {
		t.Run(c.ID, func(t *testing.T) {
			method, ct, body := cmpOr(c.Method, http.MethodPost), "application/json", []byte(c.Request)
			if c.RequestRaw != nil {
				ct, body = c.RequestRaw.ContentType, []byte(c.RequestRaw.Body)
			}
			if method == http.MethodGet {
				ct, body = "", nil
			}
			if strings.Contains(string(body), "<next_token from previous response>") {
				if nextToken == "" {
					t.Skip("the previous page returned no next_token")
				}
				body = []byte(strings.ReplaceAll(string(body), "<next_token from previous response>", nextToken))
			}
			var first string
			for range max(c.Repeat, 1) {
				res := srv.do(t, method, c.Endpoint, ct, body, c.Headers)
				checkCert(t, res, c.Expected)
				if first == "" {
					first = string(res.body)
				} else if string(res.body) != first {
					t.Errorf("repeated request answered %s, first %s", res.body, first)
				}
				var page struct {
					Page struct {
						NextToken string `json:"next_token"`
					} `json:"page"`
				}
				if json.Unmarshal(res.body, &page) == nil && page.Page.NextToken != "" {
					nextToken = page.Page.NextToken
				}
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func checkCert(t *testing.T, res response, want certExpected) {
	t.Helper()
	if res.status != want.Status {
		t.Fatalf("status %d, want %d: %s", res.status, want.Status, res.body)
	}
	for k, v := range want.ResponseHeaders {
		if got := res.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if res.header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID in the response")
	}
	if want.ContentType != "" && !strings.HasPrefix(res.header.Get("Content-Type"), want.ContentType) {
		t.Errorf("Content-Type %q, want %q", res.header.Get("Content-Type"), want.ContentType)
	}
	if want.Status != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(res.body, &e); err != nil || e.Error == "" || e.Description == "" {
			t.Errorf("error response without error and message: %s", res.body)
		}
		return
	}
	var got struct {
		Decision    *bool                     `json:"decision"`
		Evaluations []struct{ Decision bool } `json:"evaluations"`
		Results     []json.RawMessage         `json:"results"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatalf("response %s: %v", res.body, err)
	}
	if want.Decision != nil && (got.Decision == nil || *got.Decision != *want.Decision) {
		t.Errorf("decision in %s, want %v", res.body, *want.Decision)
	}
	if want.Evaluations != nil {
		bools := make([]bool, len(got.Evaluations))
		for i, e := range got.Evaluations {
			bools[i] = e.Decision
		}
		if !slices.Equal(bools, want.Evaluations) {
			t.Errorf("evaluations %v, want %v (%s)", bools, want.Evaluations, res.body)
		}
	}
	if want.EvaluationsCount != nil && len(got.Evaluations) != *want.EvaluationsCount {
		t.Errorf("%d evaluations, want %d", len(got.Evaluations), *want.EvaluationsCount)
	}
	if want.Index1Decision != nil && (len(got.Evaluations) < 2 || got.Evaluations[1].Decision != *want.Index1Decision) {
		t.Errorf("evaluations[1] in %s, want decision %v", res.body, *want.Index1Decision)
	}
	checkCertResults(t, res, got.Results, want)
	checkCertFields(t, res, want.RequiredFields)
}

func checkCertResults(t *testing.T, res response, results []json.RawMessage, want certExpected) {
	t.Helper()
	have := make([]string, len(results))
	for i, r := range results {
		have[i] = compact(t, r)
	}
	for _, w := range want.ResultsInclude {
		if !slices.Contains(have, compact(t, w)) {
			t.Errorf("results %v lack %s", have, w)
		}
	}
	if want.ResultsExact != nil && len(have) != len(want.ResultsExact) {
		t.Errorf("results %v, want exactly %d", have, len(want.ResultsExact))
	}
	if want.ResultsIsArray || want.ResultsInclude != nil || want.ResultsExact != nil {
		if results == nil {
			t.Errorf("no results array in %s", res.body)
		}
		var p struct {
			Page *struct {
				NextToken *string `json:"next_token"`
			} `json:"page"`
		}
		if json.Unmarshal(res.body, &p) != nil || p.Page == nil || p.Page.NextToken == nil {
			t.Errorf("no page.next_token string in %s", res.body)
		}
	}
}

func checkCertFields(t *testing.T, res response, required []string) {
	t.Helper()
	if len(required) == 0 {
		return
	}
	m := res.json(t)
	for _, f := range required {
		var s string
		if err := json.Unmarshal(m[f], &s); err != nil || s == "" {
			t.Errorf("metadata field %s missing or not a string in %s", f, res.body)
		}
	}
}
