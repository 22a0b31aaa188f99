package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/forwardauth"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

// forwardStack is stepgate's decision API with the forward workload's
// forward auth, in process, on in-memory stores and the shipped policy.
func forwardStack(t *testing.T, p *idp) *httptest.Server {
	t.Helper()
	ic := trust.IssuerConfig{Issuer: p.url, Audiences: []string{benchAudience}, Dialect: trust.DialectGeneric,
		Authorize: &trust.AuthorizeConfig{ClientID: "bench-proxied-app", RedirectURI: "https://" + forwardHost + "/_stepgate/callback", Scopes: []string{"openid"}}}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{ic}})
	if err != nil {
		t.Fatal(err)
	}
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(policy.EngineConfig{})
	if err := engine.Load(t.Context(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}); err != nil {
		t.Fatal(err)
	}
	logouts, err := session.NewLogouts(session.LogoutsConfig{Store: pdptest.NewLogouts()})
	if err != nil {
		t.Fatal(err)
	}
	if err := logouts.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	txs := pdptest.NewTransactions()
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: verifier, Transactions: txs,
		Elevations: pdptest.NewElevations(), CIBAOffers: pdptest.NewCIBAOffers(), Logouts: logouts})
	if err != nil {
		t.Fatal(err)
	}
	api, err := pdphttp.New(pdphttp.Config{Service: svc, Clients: clientauth.NewAuthenticator(pdptest.Clients{
		clientauth.HashKey(forwardClientKey): {ID: forwardClientID}}, 0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forwardauth.New(forwardauth.Config{Decider: svc, Verifier: verifier, Transactions: txs,
		Routes: forwardRoutes, Default: forwardDefault, Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.RegisterForwardAuth(pdphttp.ForwardAuthConfig{Handler: h, Client: forwardClientID}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv
}

// TestForwardRequestsDecideAlike: every page of the forward workload
// matches a route, and forward auth's answer to each subrequest renders the
// decision /v1/decision gives for the request body the harness derives
// from it, so the two rows of the report measure the same decisions; the
// mix gets allow, deny and step_up.
func TestForwardRequestsDecideAlike(t *testing.T) {
	p, err := startIDP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	now := time.Now().Unix()
	specs, err := withTokens(warmSpecs(100, now), p, "RS256", now)
	if err != nil {
		t.Fatal(err)
	}
	reqs := forwardRequests(specs)
	if len(reqs) != 100*len(forwardPages) {
		t.Fatalf("%d requests for 100 users, want %d", len(reqs), 100*len(forwardPages))
	}
	fwd, dec, err := forwardLines(reqs)
	if err != nil || len(fwd) != len(reqs) || len(dec) != len(reqs) {
		t.Fatalf("forwardLines: %d and %d lines, %v", len(fwd), len(dec), err)
	}
	srv := forwardStack(t, p)
	table, err := forwardauth.NewTable(forwardRoutes, forwardDefault)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	actions := map[string]bool{}
	var allowed fwdRequest
	for i, f := range reqs {
		body, err := f.decisionBody(table)
		if err != nil {
			t.Fatal(err)
		}
		actions[body["action"].(string)] = true
		var got answer
		if err := postJSON(t.Context(), srv.Client(), srv.URL+"/v1/decision", forwardClientKey, body, &got); err != nil {
			t.Fatal(err)
		}
		if err := checkForwardAnswer(t.Context(), srv.Client(), srv.URL, f, got.Decision); err != nil {
			t.Fatalf("request %d (%s %s): %v", i, f.method, f.uri, err)
		}
		seen[got.Decision]++
		if got.Decision == "allow" {
			allowed = f
		}
	}
	for _, d := range []string{"allow", "deny", "step_up"} {
		if seen[d] == 0 {
			t.Errorf("no %s in the forward mix: %v", d, seen)
		}
	}
	for _, a := range []string{"billing.view", "billing.pay", "profile.update", "orders.list"} {
		if !actions[a] {
			t.Errorf("no page of the mix asks for %s", a)
		}
	}
	// The checker is not lenient: an allow naming another subject, and a
	// decision forward auth cannot render, are refused.
	other := allowed
	other.sub = "someone-else"
	if err := checkForwardAnswer(t.Context(), srv.Client(), srv.URL, other, "allow"); err == nil {
		t.Error("an allow for another subject was accepted")
	}
	if err := checkForwardAnswer(t.Context(), srv.Client(), srv.URL, reqs[0], "no-such-decision"); err == nil {
		t.Error("an unknown decision was accepted")
	}
}

// TestLuaLineRefusesBreaks: a field with a tab or a line break would
// split a request, so the harness refuses it.
func TestLuaLineRefusesBreaks(t *testing.T) {
	if l, err := luaLine("GET", "/x", "", http.Header{"A": {"1"}, "B": {"2", "3"}}); err != nil || l != "GET\t/x\t\tA\t1\tB\t2, 3" {
		t.Fatalf("luaLine = %q, %v", l, err)
	}
	for _, h := range []http.Header{{"A": {"x\ty"}}, {"A": {"x\ny"}}} {
		if _, err := luaLine("GET", "/x", "", h); err == nil {
			t.Errorf("header %v accepted", h)
		}
	}
	if _, err := luaLine("POST", "/x", "{\"a\":\r1}", nil); err == nil {
		t.Error("a body with a line break accepted")
	}
}

// TestForwardLuaSendsLinesAndCountsStatuses runs wrk with forwardLua
// against a server that checks each request is exactly its line (method,
// path, headers, body) and answers with the status the line asks for:
// 200, 401 and 403 are counted as answers, anything else as an error.
func TestForwardLuaSendsLinesAndCountsStatuses(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not installed (Debian: apt-get install wrk)")
	}
	var mu sync.Mutex
	served := map[int]int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var status int
		_, err := fmt.Sscan(r.Header.Get("X-Want-Status"), &status)
		switch {
		case err != nil, r.Host != "stepgate", r.Header.Get("X-Two") != "a, b":
			status = http.StatusTeapot
		case r.Method == http.MethodPost && (r.URL.Path != "/v1/decision" || string(body) != `{"n":1}`):
			status = http.StatusTeapot
		case r.Method == http.MethodGet && (r.URL.Path != "/v1/forward-auth" || len(body) != 0):
			status = http.StatusTeapot
		}
		mu.Lock()
		served[status]++
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	var lines []string
	for _, st := range []string{"200", "401", "403", "500"} {
		l, err := luaLine("GET", "/v1/forward-auth", "", http.Header{"Host": {"stepgate"}, "X-Want-Status": {st}, "X-Two": {"a", "b"}})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	l, err := luaLine("POST", "/v1/decision", `{"n":1}`, http.Header{"Host": {"stepgate"}, "X-Want-Status": {"200"}, "X-Two": {"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	lines = append(lines, l)
	dir := t.TempDir()
	b := &bench{opts: options{connections: 2, threads: 1, duration: time.Second}, dir: dir}
	file := filepath.Join(dir, "t.lines")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ld := b.forwardLoad(file, http.StatusOK, http.StatusUnauthorized, http.StatusForbidden)
	ld.url = srv.URL
	w, err := runWrk(t.Context(), dir, ld)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if served[http.StatusTeapot] != 0 {
		t.Fatalf("%d requests were not their line", served[http.StatusTeapot])
	}
	st := w.Statuses
	if w.Requests < 10 || st["200"] == 0 || st["401"] == 0 || st["403"] == 0 || st["other"] == 0 {
		t.Fatalf("%d requests, statuses %v: want every line sent", w.Requests, st)
	}
	if st["200"] < st["401"] || st["200"]+st["401"]+st["403"]+st["other"] > w.Requests+int64(ld.connections) {
		t.Fatalf("statuses %v do not add up to %d requests (two lines answer 200)", st, w.Requests)
	}
	if w.errors() != st["other"] {
		t.Fatalf("errors %d, want exactly the %d answers outside 200/401/403", w.errors(), st["other"])
	}
}

// TestForwardReport: the paired ratios pair each round's forward-auth run
// with the /v1/decision run before it, and the section shows throughput,
// the ratio of the kept results, CPU per decision and the answers.
func TestForwardReport(t *testing.T) {
	run := func(workload, target string, requests int64, cpu time.Duration) result {
		return result{Workload: workload, Target: target, PerCall: 1, Requests: requests, Elapsed: time.Second, CPU: cpu,
			Statuses: map[string]int64{"200": requests / 2, "401": requests / 4, "403": requests / 4}}
	}
	b := &bench{results: []result{
		run("forward-decision", "stepgate", 1000, 500*time.Millisecond),
		run("forward-auth", "stepgate", 1500, 600*time.Millisecond),
		run("forward-decision", "stepgate-async", 2000, time.Second),
		run("forward-auth", "stepgate-async", 1000, 400*time.Millisecond),
		run("forward-decision", "stepgate", 400, 200*time.Millisecond),
		run("forward-auth", "stepgate", 200, 100*time.Millisecond),
	}}
	b.notePairedRatios(b.results)
	if len(b.notes) != 2 || !strings.HasSuffix(b.notes[0], "round by round: 1.50×, 0.50×") || !strings.HasSuffix(b.notes[1], "round by round: 0.50×") {
		t.Fatalf("notes %q", b.notes)
	}
	b.results = b.results[:4]
	md := b.forwardReport()
	for _, want := range []string{"| sync | 1000 | 1500 | 1.50× | 500 µs | 400 µs |", "| 750 / 375 / 375 |", "| async | 2000 | 1000 | 0.50× | 500 µs | 400 µs |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the section lacks %q:\n%s", want, md)
		}
	}
	if (&bench{}).forwardReport() != "" {
		t.Error("a run without the forward workload has a forward section")
	}
}
