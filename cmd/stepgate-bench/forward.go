package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp/forwardauth"
)

// The forward workload (issue 18) measures /v1/forward-auth, a reverse
// proxy's subrequest, beside /v1/decision on the same stepgate: the same
// policy (the default), the same users (the token workload's 1,000 users,
// one RS256 token each) and the same decisions. Every request is a page a
// user opens through the proxy; forward auth gets it as Caddy and Traefik
// send it (GET with X-Forwarded-Method|Proto|Host|Uri, the user's
// Authorization: Bearer token, the proxy's X-Stepgate-Client-Key), and
// /v1/decision gets the decision request forward auth makes of it (the
// action and resource type from forwardauth's own route table, the
// resource id and context from the original request), with the same
// proxy client's key. The difference in throughput is what forward auth
// costs: reading the forwarded headers, the route table, and the answer
// as a status and headers instead of JSON.

const (
	// forwardClientID is the proxy: a decision API client from the config
	// file, the only one /v1/forward-auth accepts. Both endpoints are
	// called with its key, so both audit under the same client.
	forwardClientID  = "bench-proxy"
	forwardClientKey = "bench-proxy-client-key-0123456789abcdef"
	// forwardHost is the protected app's host, as the browser sent it.
	forwardHost = "app.bench.example"
	// forwardUpstreamHost is the Host of the subrequest: stepgate as the
	// proxy names its upstream.
	forwardUpstreamHost = "stepgate"
)

// forwardRoutes is the forward workload's forward_auth.routes; unmatched
// requests are denied without asking the policy (none of the pages is).
var (
	forwardRoutes = []forwardauth.Route{
		{Path: "/billing/invoices/*/pay", Methods: []string{http.MethodPost}, Action: "billing.pay", ResourceType: "invoice"},
		{Path: "/billing/**", Methods: []string{http.MethodGet, http.MethodHead}, Action: "billing.view", ResourceType: "invoice"},
		{Path: "/profile", Methods: []string{http.MethodPut, http.MethodPost}, Action: "profile.update", ResourceType: "profile"},
		{Path: "/orders/**", Action: "orders.list", ResourceType: "order"}, // unknown to the policy: deny
	}
	forwardDefault = forwardauth.DefaultRoute{Deny: true}
)

// forwardPages are the five requests every user makes through the proxy,
// as the browser or API client sent them.
var forwardPages = []struct{ method, uri string }{
	{http.MethodGet, "/billing/invoices/inv_42?tab=lines"},
	{http.MethodPost, "/billing/invoices/inv_42/pay"},
	{http.MethodPut, "/profile"},
	{http.MethodGet, "/orders/?page=2"},
	{http.MethodGet, "/billing/payment-methods"},
}

// fwdRequest is one user's request through the proxy.
type fwdRequest struct {
	sub, token  string
	method, uri string
}

// forwardRequests are users × forwardPages, each user with the token of
// specs (withTokens: one per user), in a fixed shuffled order.
func forwardRequests(specs []spec) []fwdRequest {
	var users []spec
	seen := map[string]bool{}
	for _, s := range specs {
		if !seen[s.sub] && s.token != "" {
			seen[s.sub] = true
			users = append(users, s)
		}
	}
	out := make([]fwdRequest, 0, len(users)*len(forwardPages))
	for _, u := range users {
		for _, p := range forwardPages {
			out = append(out, fwdRequest{sub: u.sub, token: u.token, method: p.method, uri: p.uri})
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// header is the subrequest's headers, as Caddy and Traefik send them.
func (f fwdRequest) header() http.Header {
	return http.Header{
		"Host":                  {forwardUpstreamHost},
		"Accept":                {"application/json"},
		"Authorization":         {"Bearer " + f.token},
		"X-Forwarded-Method":    {f.method},
		"X-Forwarded-Proto":     {"https"},
		"X-Forwarded-Host":      {forwardHost},
		"X-Forwarded-Uri":       {f.uri},
		"X-Stepgate-Client-Key": {forwardClientKey},
		"X-Forwarded-For":       {"203.0.113.7"},
		"User-Agent":            {"stepgate-bench"},
	}
}

// original reads f the way forward auth does.
func (f fwdRequest) original() (forwardauth.Original, error) {
	r, err := http.NewRequest(http.MethodGet, "http://"+forwardUpstreamHost+"/v1/forward-auth", nil)
	if err != nil {
		return forwardauth.Original{}, err
	}
	r.Header = f.header()
	return forwardauth.OriginalOf(r)
}

// decisionBody is the /v1/decision request forward auth makes of f: the
// action and resource type from table, the resource id and context from
// the original request (pdp/forwardauth's Decide).
func (f fwdRequest) decisionBody(table *forwardauth.Table) (map[string]any, error) {
	o, err := f.original()
	if err != nil {
		return nil, err
	}
	action, typ, ok := table.Match(o.Hostname(), o.Method, o.Path)
	if !ok {
		return nil, fmt.Errorf("%s %s matches no forward route", f.method, f.uri)
	}
	return map[string]any{"token": f.token, "action": action, "resource": map[string]any{"type": typ, "id": o.Path},
		"context": map[string]any{"method": o.Method, "host": o.Hostname(), "path": o.Path, "channel": "web"}}, nil
}

// luaLine is one request for forwardLua: method, path, body and header
// name/value pairs, tab-separated, on one line.
func luaLine(method, path, body string, h http.Header) (string, error) {
	fields := []string{method, path, body}
	keys := make([]string, 0, len(h))
	for k, vs := range h {
		if len(vs) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fields = append(fields, k, strings.Join(h[k], ", "))
	}
	for _, f := range fields {
		if strings.ContainsAny(f, "\t\r\n") {
			return "", fmt.Errorf("request field %q contains a tab or a line break", clipped(f))
		}
	}
	return strings.Join(fields, "\t"), nil
}

// clipped shortens s for an error message.
func clipped(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// forwardLines renders the requests for both endpoints: the subrequest to
// /v1/forward-auth, and its decision request to /v1/decision.
func forwardLines(reqs []fwdRequest) (forward, decision []string, err error) {
	table, err := forwardauth.NewTable(forwardRoutes, forwardDefault)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range reqs {
		fl, err := luaLine(http.MethodGet, "/v1/forward-auth", "", f.header())
		if err != nil {
			return nil, nil, err
		}
		body, err := f.decisionBody(table)
		if err != nil {
			return nil, nil, err
		}
		js, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		dl, err := luaLine(http.MethodPost, "/v1/decision", string(js), http.Header{"Host": {forwardUpstreamHost},
			"Authorization": {"Bearer " + forwardClientKey}, "Content-Type": {"application/json"}})
		if err != nil {
			return nil, nil, err
		}
		forward, decision = append(forward, fl), append(decision, dl)
	}
	return forward, decision, nil
}

// forwardConfig writes the forward workload's stepgate config: the bench
// issuer with an authorize client (forward auth signs browsers in with
// it), the proxy client, and forward_auth. JSON is YAML.
func (b *bench) forwardConfig() (string, error) {
	cfg := map[string]any{
		"log_level": "warn",
		"issuers": []any{map[string]any{"issuer": b.idp.url, "audiences": []string{benchAudience}, "dialect": "generic",
			"authorize": map[string]any{"client_id": "bench-proxied-app", "redirect_uri": "https://" + forwardHost + "/_stepgate/callback",
				"scopes": []string{"openid"}}}},
		"clients":      []any{map[string]any{"id": forwardClientID, "key": forwardClientKey}},
		"forward_auth": map[string]any{"client": forwardClientID, "routes": forwardRoutes, "default": forwardDefault},
	}
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", err
	}
	f := filepath.Join(b.dir, "stepgate-forward.yaml")
	return f, os.WriteFile(f, js, 0o644)
}

// forwardLua drives wrk with the requests of a lines file (luaLine), each
// with its own method, path, headers and body, and counts the answers by
// status: any status outside the expected ones is an error (wrk itself
// counts every 4xx as one, but 401 and 403 are forward auth's answers).
const forwardLua = `
local lines_file, expected = %q, %q
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
local reqs, idx = {}, 0
n200, n401, n403, nother, bad = 0, 0, 0, 0, 0
function init(args)
  local tab = string.char(9)
  for l in io.lines(lines_file) do
    local f = {}
    for s in (l .. tab):gmatch("(.-)" .. tab) do f[#f + 1] = s end
    local headers = {}
    for i = 4, #f - 1, 2 do headers[f[i]] = f[i + 1] end
    local body = f[3]
    if body == "" then body = nil end
    reqs[#reqs + 1] = wrk.format(f[1], f[2], headers, body)
  end
  idx = (tid * 7919) %% #reqs
end
function request()
  idx = idx %% #reqs + 1
  return reqs[idx]
end
function response(status, headers, body)
  if status == 200 then n200 = n200 + 1
  elseif status == 401 then n401 = n401 + 1
  elseif status == 403 then n403 = n403 + 1
  else nother = nother + 1 end
  if not expected:find("," .. status .. ",", 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local c, b = {0, 0, 0, 0}, 0
  for _, t in ipairs(threads) do
    c[1] = c[1] + (t:get("n200") or 0)
    c[2] = c[2] + (t:get("n401") or 0)
    c[3] = c[3] + (t:get("n403") or 0)
    c[4] = c[4] + (t:get("nother") or 0)
    b = b + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%f,"p99_us":%%f,"p999_us":%%f,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d,"bad":0,' ..
    '"statuses":{"200":%%d,"401":%%d,"403":%%d,"other":%%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect, e.read, e.write, b, e.timeout, c[1], c[2], c[3], c[4]))
end
`

// forwardLoad is a closed loop over a lines file; expected are the
// statuses that count as answers.
func (b *bench) forwardLoad(lines string, expected ...int) load {
	set := ","
	for _, s := range expected {
		set += fmt.Sprint(s) + ","
	}
	l := b.closedLoop(lines, "", "")
	l.script = fmt.Sprintf(forwardLua, lines, set)
	return l
}

// writeLines writes request lines for forwardLua.
func (b *bench) writeLines(name string, lines []string) (string, error) {
	f := filepath.Join(b.dir, name+".lines")
	return f, os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// forward measures forward auth beside /v1/decision in both audit modes,
// rounds interleaved and medians kept, after checking that the two
// endpoints decide a sample of the requests alike.
func (b *bench) forward(ctx context.Context) error {
	now := time.Now().Unix()
	specs, err := withTokens(warmSpecs(1000, now), b.idp, "RS256", now)
	if err != nil {
		return err
	}
	reqs := forwardRequests(specs)
	fwd, dec, err := forwardLines(reqs)
	if err != nil {
		return err
	}
	ff, err := b.writeLines("forward-auth", fwd)
	if err != nil {
		return err
	}
	df, err := b.writeLines("forward-decision", dec)
	if err != nil {
		return err
	}
	cfg, err := b.forwardConfig()
	if err != nil {
		return err
	}
	start := func(mode string) func(context.Context) (*process, error) {
		return func(ctx context.Context) (*process, error) {
			p, _, err := b.startStepgateWith(ctx, cfg, mode)
			return p, err
		}
	}
	if err := b.verifyForward(ctx, start("async"), reqs); err != nil {
		return err
	}
	first := len(b.results)
	for round := 1; round <= b.opts.rounds; round++ {
		if b.opts.rounds > 1 {
			fmt.Fprintf(b.out, "  round %d of %d\n", round, b.opts.rounds)
		}
		for _, t := range []struct{ name, mode string }{{"stepgate", "sync"}, {"stepgate-async", "async"}} {
			if _, err := b.once(ctx, "forward-decision", t.name, start(t.mode), b.forwardLoad(df, http.StatusOK), 1); err != nil {
				return err
			}
			if _, err := b.once(ctx, "forward-auth", t.name, start(t.mode), b.forwardLoad(ff, http.StatusOK, http.StatusUnauthorized, http.StatusForbidden), 1); err != nil {
				return err
			}
		}
	}
	b.notePairedRatios(b.results[first:])
	b.keepMedians(first)
	for _, t := range []string{"stepgate", "stepgate-async"} {
		if x, ok := b.ratio("forward-auth", t, "forward-decision", t); ok {
			fmt.Fprintf(b.out, "  forward-auth / decision (%s): %.2f×\n", t, x)
		}
	}
	return nil
}

// notePairedRatios notes forward auth's throughput over /v1/decision's
// round by round: the two run one after the other in a round, so a slow
// stretch of a shared machine weighs on both, where the medians of each
// may come from different rounds.
func (b *bench) notePairedRatios(rs []result) {
	for _, t := range []string{"stepgate", "stepgate-async"} {
		var dec []result
		var ratios []string
		for _, r := range rs {
			switch {
			case r.Target != t:
			case r.Workload == "forward-decision":
				dec = append(dec, r)
			case r.Workload == "forward-auth" && len(dec) > len(ratios) && dec[len(ratios)].dps() > 0:
				ratios = append(ratios, fmt.Sprintf("%.2f×", r.dps()/dec[len(ratios)].dps()))
			}
		}
		if len(ratios) > 0 {
			b.notes = append(b.notes, fmt.Sprintf("forward on %s: forward-auth / forward-decision decisions per second, round by round: %s",
				t, strings.Join(ratios, ", ")))
		}
	}
}

// cpuPerDecision is the target's CPU time per decision: what an answer
// costs the process, which other work on the machine slows but does not
// inflate the way it cuts throughput.
func (r result) cpuPerDecision() time.Duration {
	n := r.Requests * int64(max(r.PerCall, 1))
	if n == 0 {
		return 0
	}
	return r.CPU / time.Duration(n)
}

// verifyForward sends the first requests to both endpoints of one stepgate
// and fails when forward auth's answer is not the decision's: allow → 200
// naming the token's subject, deny → 403, step_up → 401 with RFC 9470's
// challenge, ciba → 401.
func (b *bench) verifyForward(ctx context.Context, start func(context.Context) (*process, error), reqs []fwdRequest) error {
	p, err := start(ctx)
	if err != nil {
		return err
	}
	defer p.stop()
	table, err := forwardauth.NewTable(forwardRoutes, forwardDefault)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	seen := map[string]int{}
	for i, f := range reqs[:min(100, len(reqs))] {
		body, err := f.decisionBody(table)
		if err != nil {
			return err
		}
		var want answer
		if err := postJSON(ctx, client, "http://"+p.addr+"/v1/decision", forwardClientKey, body, &want); err != nil {
			return fmt.Errorf("verify forward: %w", err)
		}
		if err := checkForwardAnswer(ctx, client, "http://"+p.addr, f, want.Decision); err != nil {
			return fmt.Errorf("forward auth and /v1/decision disagree on request %d (%s %s %s), not measuring: %w", i, f.sub, f.method, f.uri, err)
		}
		seen[want.Decision]++
	}
	b.notes = append(b.notes, fmt.Sprintf("forward: the first %d requests got the same decision from /v1/forward-auth as from /v1/decision (%v)",
		min(100, len(reqs)), seen))
	return nil
}

// checkForwardAnswer sends f to forward auth at base and checks that its
// answer renders decision.
func checkForwardAnswer(ctx context.Context, c *http.Client, base string, f fwdRequest, decision string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/forward-auth", nil)
	if err != nil {
		return err
	}
	req.Header = f.header()
	req.Host = forwardUpstreamHost
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var got answer
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(raw, &got); err != nil {
			return fmt.Errorf("status %d with a body that is not an answer: %s", resp.StatusCode, raw)
		}
	}
	wantStatus := map[string]int{"allow": http.StatusOK, "deny": http.StatusForbidden, "step_up": http.StatusUnauthorized, "ciba": http.StatusUnauthorized}[decision]
	switch {
	case wantStatus == 0:
		return fmt.Errorf("/v1/decision answered %q", decision)
	case resp.StatusCode != wantStatus:
		return fmt.Errorf("/v1/decision says %s, forward auth answers %d %s", decision, resp.StatusCode, raw)
	case resp.Header.Get(forwardauth.HeaderDecisionID) == "":
		return errors.New("forward auth's answer has no decision id")
	case decision == "allow" && resp.Header.Get(forwardauth.HeaderSubject) != f.sub:
		return fmt.Errorf("allowed, but the subject for the upstream is %q, want %q", resp.Header.Get(forwardauth.HeaderSubject), f.sub)
	case decision != "allow" && got.Decision != decision:
		return fmt.Errorf("/v1/decision says %s, forward auth's body says %s", decision, got.Decision)
	case decision == "step_up" && !strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_user_authentication"):
		return fmt.Errorf("step_up without RFC 9470's challenge: WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
	}
	return nil
}

// forwardReport is the report's section on the forward workload.
func (b *bench) forwardReport() string {
	if _, ok := b.find("forward-auth", "stepgate"); !ok {
		return ""
	}
	var sb strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	w("## Forward auth beside /v1/decision (issue 18)\n\n")
	w("The *forward-auth* rows are a reverse proxy's subrequests to `/v1/forward-auth`: the token workload's 1,000 users (one RS256 token each) open five pages each through the proxy (`GET /billing/invoices/inv_42?tab=lines`, `POST …/pay`, `PUT /profile`, `GET /orders/?page=2`, `GET /billing/payment-methods`), sent as Caddy and Traefik send them (`GET` with `X-Forwarded-Method|Proto|Host|Uri`, the user's `Authorization: Bearer` token and the proxy's `X-Stepgate-Client-Key`). The *forward-decision* rows are the same decisions asked of `/v1/decision` by the same proxy client: the action and resource type from forward auth's route table, the resource id and context from the original request. Both run on the default policy, with a stepgate whose issuer has an authorize client (forward auth needs one to sign browsers in), so a step_up also stores a step-up transaction on both endpoints. Before measuring, the first 100 requests are sent to both endpoints of one stepgate and the run stops unless every forward-auth answer renders the decision (allow → 200 naming the token's subject, deny → 403, step_up → 401 with RFC 9470's challenge). CPU per decision (the process's CPU time over the decisions it answered) is the steadier comparison on a busy machine; the notes list the ratio round by round.\n\n")
	w("| audit | /v1/decision (dec/s) | /v1/forward-auth (dec/s) | forward auth vs decision | CPU per decision: /v1/decision | CPU per decision: /v1/forward-auth | forward-auth p99 | forward-auth answers (200 / 401 / 403) |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, t := range []struct{ target, mode string }{{"stepgate", "sync"}, {"stepgate-async", "async"}} {
		fa, ok1 := b.find("forward-auth", t.target)
		fd, ok2 := b.find("forward-decision", t.target)
		if !ok1 || !ok2 {
			continue
		}
		ratio, _ := b.ratio("forward-auth", t.target, "forward-decision", t.target)
		st := fa.Statuses
		w("| %s | %.0f | %.0f | %.2f× | %d µs | %d µs | %s | %d / %d / %d |\n", t.mode, fd.dps(), fa.dps(), ratio,
			fd.cpuPerDecision().Microseconds(), fa.cpuPerDecision().Microseconds(), fmtDur(fa.P99), st["200"], st["401"], st["403"])
	}
	w("\n")
	return sb.String()
}
