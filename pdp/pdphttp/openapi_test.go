package pdphttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/api"
	"github.com/stepgate/stepgate/api/apitest"
	"github.com/stepgate/stepgate/pdp/authzen"
	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/forwardauth"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

// get sends a GET with optional headers (name, value pairs).
func (h *harness) get(path string, hdr ...string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t)
	r := h.get("/openapi.json")
	if r.status != http.StatusOK {
		t.Fatalf("status %d without a client key: %s", r.status, r.body)
	}
	if !bytes.Equal(r.body, api.OpenAPI()) {
		t.Error("the served document is not the committed api/openapi.json")
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") {
		t.Errorf("Cache-Control = %q, want public caching", cc)
	}
	etag := r.header.Get("ETag")
	if etag != api.ETag() {
		t.Errorf("ETag = %q, want %q", etag, api.ETag())
	}
	r = h.get("/openapi.json", "If-None-Match", etag)
	if r.status != http.StatusNotModified || len(r.body) != 0 {
		t.Errorf("revalidation: status %d, %d body bytes; want 304 and none", r.status, len(r.body))
	}
	if r = h.get("/openapi.json", "If-None-Match", `"stale"`); r.status != http.StatusOK {
		t.Errorf("stale ETag: status %d, want 200", r.status)
	}
}

// TestCheckerRejectsDrift shows that the validation wrapped around every
// test server is not a formality: answers that depart from the document in
// each way it checks are refused.
func TestCheckerRejectsDrift(t *testing.T) {
	c := apitest.Shared(t)
	req := httptest.NewRequest(http.MethodPost, "/v1/decision", nil)
	good := `{"decision_id":"d1","decision":"allow","reasons":[],"policy_revision":1}`
	hdr := func(kv ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	if err := c.CheckResponse(req, 200, hdr(), []byte(good)); err != nil {
		t.Fatalf("a documented answer is refused: %v", err)
	}
	tests := []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
	}{
		{"undocumented member", req, 200, hdr(), `{"decision_id":"d1","decision":"allow","reasons":[],"policy_revision":1,"extra":true}`},
		{"unknown outcome", req, 200, hdr(), `{"decision_id":"d1","decision":"maybe","reasons":[],"policy_revision":1}`},
		{"missing member", req, 200, hdr(), `{"decision":"allow","reasons":[],"policy_revision":1}`},
		{"undocumented status", req, 418, hdr(), `{"error":"teapot"}`},
		{"no X-Request-ID", req, 200, http.Header{"Content-Type": {"application/json"}}, good},
		{"401 without WWW-Authenticate", req, 401, hdr(), `{"error":"invalid_client"}`},
		{"error without code", req, 400, hdr(), `{"error_description":"x"}`},
		{"undocumented path", httptest.NewRequest(http.MethodGet, "/v1/nothing", nil), 200, hdr(), `{}`},
		{"undocumented method", httptest.NewRequest(http.MethodGet, "/v1/decision", nil), 200, hdr(), good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.CheckResponse(tt.req, tt.status, tt.header, []byte(tt.body)); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// The proxy client of forward auth in fullServer.
const (
	keyProxy    = "sgk_proxy-key"
	proxyClient = "proxy"
)

// fullServer is the decision router with every optional route group
// registered (CIBA, sessions, AuthZEN with search, forward auth), served
// with the response check, on the harness's service.
func fullServer(t *testing.T, h *harness) (*pdphttp.Server, *httptest.Server) {
	t.Helper()
	ic := h.idp.Config(pdptest.DefaultAudience, appClient)
	ic.Authorize = &trust.AuthorizeConfig{ClientID: appClient, RedirectURI: "https://app.example/callback", Scopes: []string{"openid"}}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{ic}, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := ciba.NewRunner(ciba.RunnerConfig{Verifier: verifier, Offers: pdptest.NewCIBAOffers(),
		Requests: backchannel.NewMemoryStore(), Audit: h.flows, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := session.NewSessions(session.SessionsConfig{Store: pdptest.NewElevations(), Verifier: verifier,
		Audit: h.flows, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	searcher, err := authzen.NewSearcher(authzen.SearcherConfig{Service: h.svc,
		Revision: func(context.Context, int64) (policy.Revision, error) {
			return policy.Revision{ID: 1, Hash: files.Hash(), Files: files}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := pdphttp.New(pdphttp.Config{Service: h.svc, Clients: clientauth.NewAuthenticator(pdptest.Clients{
		clientauth.HashKey(keyService): {ID: "billing-svc", ReturnTo: []string{"https://app.example/billing/"}},
		clientauth.HashKey(keyProxy):   {ID: proxyClient},
	}, 0, h.clock.Now), Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = io.WriteString(w, "# TYPE up gauge\nup 1\n")
	})})
	if err != nil {
		t.Fatal(err)
	}
	s.RegisterCIBA(runner)
	s.RegisterSessions(sessions)
	if err := s.RegisterAuthZEN(pdphttp.AuthZENConfig{BaseURL: "https://pdp.example", Search: searcher}); err != nil {
		t.Fatal(err)
	}
	fa, err := forwardauth.New(forwardauth.Config{Decider: h.svc, Verifier: verifier, Transactions: h.txs, Sessions: sessions,
		Routes:  []forwardauth.Route{{Path: "/billing/**", Action: "billing.view"}},
		Default: forwardauth.DefaultRoute{Deny: true}, Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterForwardAuth(pdphttp.ForwardAuthConfig{Handler: fa, Client: proxyClient}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(apitest.Handler(t, s))
	t.Cleanup(ts.Close)
	return s, ts
}

// TestEveryRouteDocumented compares the router's routes with the
// document's operations, both ways.
func TestEveryRouteDocumented(t *testing.T) {
	h := newHarness(t)
	s, _ := fullServer(t, h)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for p, item := range doc.Paths {
		for m := range item {
			if slices.Contains([]string{"get", "head", "post", "put", "patch", "delete", "options", "trace"}, m) {
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	served := map[string]bool{}
	for _, r := range s.Echo().Routes() {
		var segs []string
		for seg := range strings.SplitSeq(r.Path, "/") {
			if strings.HasPrefix(seg, ":") {
				seg = "{" + seg[1:] + "}"
			}
			segs = append(segs, seg)
		}
		if slices.Contains([]string{"CONNECT", "PROPFIND", "REPORT"}, r.Method) {
			continue // echo's Any registers methods OpenAPI cannot describe
		}
		op := r.Method + " " + strings.Join(segs, "/")
		served[op] = true
		if !documented[op] {
			t.Errorf("%s is served but not in api/openapi.json", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("%s is documented but not served", op)
		}
	}
}

// send makes one request to base+path; key "" sends no client key.
func send(t *testing.T, method, target, key, contentType, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// TestOpenAPIStatuses provokes each status of each endpoint on a real
// router; the response check around the server validates every answer
// against the document, and the test that the status is the one meant.
func TestOpenAPIStatuses(t *testing.T) {
	h := newHarness(t)
	_, full := fullServer(t, h)
	const js = "application/json"
	claims := `{"claims":{"sub":"alice","amr":["pwd","mfa"],"auth_time":1763769990},"action":"billing.view"}`
	big := `{"action":"billing.view","context":{"pad":"` + strings.Repeat("x", pdphttp.DefaultMaxBodyBytes) + `"}}`
	logoutForm := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, path, key, contentType, body string
		full                                       bool // served by fullServer, not the harness
		status                                     int
	}{
		{"decision allow", "POST", "/v1/decision", keyTrusted, js, claims, false, 200},
		{"decision step_up", "POST", "/v1/decision", keyTrusted, js, `{"claims":{"sub":"alice","amr":["pwd"],"auth_time":1763769990},"action":"billing.view"}`, false, 200},
		{"decision deny for a bad token", "POST", "/v1/decision", keyService, js, `{"token":"not.a.jwt","action":"billing.view"}`, false, 200},
		{"decision bad JSON", "POST", "/v1/decision", keyService, js, `{"action":`, false, 400},
		{"decision unknown field", "POST", "/v1/decision", keyService, js, `{"acton":"billing.view","token":"x"}`, false, 400},
		{"decision no key", "POST", "/v1/decision", "", js, claims, false, 401},
		{"decision bad key", "POST", "/v1/decision", "sgk_wrong", js, claims, false, 401},
		{"decision claims from a client not allowed to assert", "POST", "/v1/decision", keyService, js, claims, false, 403},
		{"decision too large", "POST", "/v1/decision", keyService, js, big, false, 413},
		{"decision not JSON", "POST", "/v1/decision", keyService, "text/plain", claims, false, 415},
		{"decision wrong method", "GET", "/v1/decision", keyService, "", "", false, 405},
		{"batch", "POST", "/v1/decisions", keyTrusted, js, `{"requests":[` + claims + `,` + claims + `]}`, false, 200},
		{"batch empty", "POST", "/v1/decisions", keyTrusted, js, `{"requests":[]}`, false, 400},
		{"batch no key", "POST", "/v1/decisions", "", js, `{"requests":[]}`, false, 401},
		{"verify unknown transaction", "POST", "/v1/stepup/verify", keyService, js, `{"transaction_id":"nope","id_token":"a.b.c"}`, false, 404},
		{"verify missing fields", "POST", "/v1/stepup/verify", keyService, js, `{"transaction_id":1}`, false, 400},
		{"verify no key", "POST", "/v1/stepup/verify", "", js, `{}`, false, 401},
		{"healthz", "GET", "/healthz", "", "", "", false, 200},
		{"readyz", "GET", "/readyz", "", "", "", false, 200},
		{"openapi", "GET", "/openapi.json", "", "", "", false, 200},
		{"unknown path", "GET", "/v1/nothing", "", "", "", false, 404},
		{"metrics", "GET", "/metrics", "", "", "", true, 200},
		{"ciba start unknown decision", "POST", "/v1/ciba", keyService, js, `{"decision_id":"nope"}`, true, 404},
		{"ciba start unknown field", "POST", "/v1/ciba", keyService, js, `{"decision":"x"}`, true, 400},
		{"ciba start no key", "POST", "/v1/ciba", "", js, `{"decision_id":"x"}`, true, 401},
		{"ciba start naming a user, not allowed to this client", "POST", "/v1/ciba", keyService, js, `{"issuer":"` + h.idp.URL() + `","subject":"alice","binding_message":"Pay 1200"}`, true, 403},
		{"ciba status unknown", "GET", "/v1/ciba/nope", keyService, "", "", true, 404},
		{"ciba status no key", "GET", "/v1/ciba/nope", "", "", "", true, 401},
		{"session revoke", "POST", "/v1/sessions/s-1/revoke", keyService, "", "", true, 200},
		{"session revoke no key", "POST", "/v1/sessions/s-1/revoke", "", "", "", true, 401},
		{"logout not a form", "POST", "/v1/backchannel-logout", "", js, `{}`, true, 400},
		{"logout bad token", "POST", "/v1/backchannel-logout", "", logoutForm, "logout_token=a.b.c", true, 400},
		{"authzen metadata", "GET", "/.well-known/authzen-configuration", "", "", "", true, 200},
		{"authzen evaluation", "POST", "/access/v1/evaluation", keyService, js,
			`{"subject":{"type":"user","id":"alice"},"action":{"name":"billing.view"},"resource":{"type":"invoice","id":"i1"}}`, true, 200},
		{"authzen evaluation no key", "POST", "/access/v1/evaluation", "", js, `{}`, true, 401},
		{"authzen evaluation bad", "POST", "/access/v1/evaluation", keyService, js, `{"subject":1}`, true, 400},
		{"authzen evaluations", "POST", "/access/v1/evaluations", keyService, js,
			`{"subject":{"type":"user","id":"alice"},"resource":{"type":"invoice","id":"i1"},"evaluations":[{"action":{"name":"billing.view"}},{"action":{}}]}`, true, 200},
		{"authzen search action", "POST", "/access/v1/search/action", keyService, js,
			`{"subject":{"type":"user","id":"alice"},"resource":{"type":"invoice","id":"i1"}}`, true, 200},
		{"authzen search subject bad", "POST", "/access/v1/search/subject", keyService, js, `{"subject":{}}`, true, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := h.srv.URL
			if tt.full {
				base = full.URL
			}
			r := send(t, tt.method, base+tt.path, tt.key, tt.contentType, tt.body)
			if r.status != tt.status {
				t.Errorf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestOpenAPIForwardAuthStatuses provokes each answer of forward auth and
// of its browser paths.
func TestOpenAPIForwardAuthStatuses(t *testing.T) {
	h := newHarness(t)
	_, full := fullServer(t, h)
	mfa := h.token(map[string]any{"amr": []string{"pwd", "mfa"}, "auth_time": h.clock.Now().Unix() - 10})
	pwd := h.token(map[string]any{"amr": []string{"pwd"}, "auth_time": h.clock.Now().Unix() - 7200})
	traefik := func(uri string, kv ...string) []string {
		return append([]string{"X-Stepgate-Client-Key", keyProxy, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example",
			"X-Forwarded-Method", "GET", "X-Forwarded-Uri", uri}, kv...)
	}
	tests := []struct {
		name, method, path string
		hdr                []string
		status             int
		header             string // a header the answer must carry
	}{
		{"allow", "GET", "/v1/forward-auth", traefik("/billing/x", "Authorization", "Bearer "+mfa), 200, "X-Stepgate-Subject"},
		{"deny", "GET", "/v1/forward-auth", traefik("/other", "Authorization", "Bearer "+mfa), 403, ""},
		{"API step-up", "POST", "/v1/forward-auth", traefik("/billing/x", "Authorization", "Bearer "+pwd, "Accept", "application/json"), 401, "WWW-Authenticate"},
		{"browser sign-in", "GET", "/v1/forward-auth", traefik("/billing/x", "Accept", "text/html"), 302, "Location"},
		{"NGINX browser sign-in", "GET", "/v1/forward-auth", []string{"X-Stepgate-Client-Key", keyProxy, "X-Original-URI", "/billing/x",
			"X-Original-Method", "GET", "X-Forwarded-Host", "app.example", "Accept", "text/html"}, 401, "Location"},
		{"no proxy key", "GET", "/v1/forward-auth", []string{"X-Forwarded-Uri", "/billing/x"}, 401, "WWW-Authenticate"},
		{"another client's key", "GET", "/v1/forward-auth", append(traefik("/billing/x"), "X-Stepgate-Client-Key", keyService), 403, ""},
		{"no original request", "HEAD", "/v1/forward-auth", []string{"X-Stepgate-Client-Key", keyProxy}, 400, ""},
		{"callback without a sign-in", "GET", "/_stepgate/callback?code=c&state=s", nil, 400, ""},
		{"sign-out", "POST", "/_stepgate/signout?rd=/bye", []string{"Host", "app.example"}, 303, "Location"},
		{"sign-out off-site", "GET", "/_stepgate/signout?rd=//evil.example/", nil, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, tt.method, full.URL+tt.path, "", "", "", tt.hdr...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.header != "" && r.header.Get(tt.header) == "" {
				t.Errorf("no %s in %v", tt.header, r.header)
			}
		})
	}
}

// TestOpenAPIVerifyStatuses walks step-up transactions through verify's
// answers: 403 for an insufficient login (which uses the transaction up);
// 200, then 409 once used.
func TestOpenAPIVerifyStatuses(t *testing.T) {
	h := newHarness(t)
	verify := func(txID, token string, want int) {
		t.Helper()
		r := h.post("/v1/stepup/verify", keyService, map[string]any{"transaction_id": txID, "id_token": token})
		if r.status != want {
			t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
		}
	}
	txID, nonce := startStepUp(t, h, keyService)
	verify(txID, idToken(h, map[string]any{"nonce": nonce, "amr": []string{"pwd"}}), 403)
	txID, nonce = startStepUp(t, h, keyService)
	strong := idToken(h, map[string]any{"nonce": nonce})
	verify(txID, strong, 200)
	verify(txID, strong, 409)
}
