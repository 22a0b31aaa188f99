package authzentest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/pdphttp"
)

// authzenDataDir finds the public AuthZEN interop data: STEPGATE_AUTHZEN_DIR,
// or shared/authzen in the first ancestor of the test directory that has it
// (../shared/authzen from the repository root). Missing data fails the test
// in CI and skips it elsewhere.
func authzenDataDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("STEPGATE_AUTHZEN_DIR"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "shared", "authzen")
		if fi, err := os.Stat(cand); err == nil && fi.IsDir() {
			return cand
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("AuthZEN interop data not found above %s (want ../shared/authzen or STEPGATE_AUTHZEN_DIR)", wd)
	}
	tb.Skipf("AuthZEN interop data not found above %s; set STEPGATE_AUTHZEN_DIR", wd)
	return ""
}

// interopCase is one request/expected pair of an upstream suite file.
type interopCase struct {
	Request  json.RawMessage `json:"request"`
	Expected json.RawMessage `json:"expected"`
}

// interopSuite is one upstream file replayed against one policy bundle.
// Cases under "evaluation" and "search" go to endpoint, those under
// "evaluations" to the batch endpoint.
type interopSuite struct {
	name     string
	bundle   string
	file     string
	endpoint string
	search   bool
}

var interopSuites = []interopSuite{
	{name: "todo 1.0-02", bundle: "todo", file: "todo/decisions-authorization-api-1_0-02.json", endpoint: pdphttp.PathEvaluation},
	{name: "api-gateway", bundle: "gateway", file: "api-gateway/decisions.json", endpoint: pdphttp.PathEvaluation},
	{name: "search subject", bundle: "search", file: "search/subject/results.json", endpoint: pdphttp.PathSearchSubject, search: true},
	{name: "search resource", bundle: "search", file: "search/resource/results.json", endpoint: pdphttp.PathSearchResource, search: true},
	{name: "search action", bundle: "search", file: "search/action/results.json", endpoint: pdphttp.PathSearchAction, search: true},
	{name: "idp", bundle: "idp", file: "idp/results.json", endpoint: pdphttp.PathSearchResource, search: true},
}

// TestAuthZENInterop replays every case of the public AuthZEN interop suites
// against the real router and compares as the upstream runners do: decision
// booleans, batch responses as exact JSON strings, search results sorted.
func TestAuthZENInterop(t *testing.T) {
	dir := authzenDataDir(t)
	passed, failed := 0, 0
	for _, s := range interopSuites {
		t.Run(s.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, s.file))
			if err != nil {
				t.Fatalf("read suite: %v", err)
			}
			var groups map[string][]interopCase
			if err := json.Unmarshal(raw, &groups); err != nil {
				t.Fatalf("parse suite %s: %v", s.file, err)
			}
			if len(groups) == 0 {
				t.Fatalf("suite %s has no cases", s.file)
			}
			srv := startAuthZEN(t, bundleRevision(t, s.bundle), serverOptions{})
			for _, group := range slices.Sorted(maps.Keys(groups)) {
				endpoint, check := s.endpoint, checkDecision
				switch {
				case group == "evaluations":
					endpoint, check = pdphttp.PathEvaluations, checkEvaluations
				case s.search:
					check = checkSearch
				}
				for i, c := range groups[group] {
					res := srv.do(t, "POST", endpoint, "application/json", c.Request, nil)
					if msg := check(t, res, c.Expected); msg != "" {
						failed++
						t.Errorf("%s %s[%d] POST %s %s: %s", s.file, group, i, endpoint, compact(t, c.Request), msg)
						continue
					}
					passed++
				}
			}
		})
	}
	fmt.Printf("authzen: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		t.Fail()
	}
}

// checkDecision: the upstream runner compares response.decision with the
// expected boolean.
func checkDecision(tb testing.TB, res response, expected json.RawMessage) string {
	if res.status != 200 {
		return fmt.Sprintf("status %d: %s", res.status, res.body)
	}
	var want bool
	if err := json.Unmarshal(expected, &want); err != nil {
		tb.Fatalf("expected is not a boolean: %s", expected)
	}
	var got struct {
		Decision *bool `json:"decision"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil || got.Decision == nil {
		return fmt.Sprintf("no boolean decision in %s", res.body)
	}
	if *got.Decision != want {
		return fmt.Sprintf("decision %v, want %v (%s)", *got.Decision, want, res.body)
	}
	return ""
}

// checkEvaluations: the upstream runner compares JSON.stringify of the
// response's evaluations with the expected array, byte for byte.
func checkEvaluations(tb testing.TB, res response, expected json.RawMessage) string {
	if res.status != 200 {
		return fmt.Sprintf("status %d: %s", res.status, res.body)
	}
	got, ok := res.json(tb)["evaluations"]
	if !ok {
		return fmt.Sprintf("no evaluations in %s", res.body)
	}
	if g, w := compact(tb, got), compact(tb, expected); g != w {
		return fmt.Sprintf("evaluations %s, want %s", g, w)
	}
	return ""
}

// checkSearch: the upstream runner sorts both result lists and compares
// them as JSON, so member order (type, id) matters but result order does not.
func checkSearch(tb testing.TB, res response, expected json.RawMessage) string {
	if res.status != 200 {
		return fmt.Sprintf("status %d: %s", res.status, res.body)
	}
	var want struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(expected, &want); err != nil {
		tb.Fatalf("expected has no results: %s", expected)
	}
	var got struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil || got.Results == nil {
		return fmt.Sprintf("no results array in %s", res.body)
	}
	g, w := sortedJSON(tb, got.Results), sortedJSON(tb, want.Results)
	if g != w {
		return fmt.Sprintf("results %s, want %s", g, w)
	}
	return ""
}

func sortedJSON(tb testing.TB, items []json.RawMessage) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = compact(tb, it)
	}
	slices.Sort(s)
	return "[" + strings.Join(s, ",") + "]"
}
