package extauthz_test

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/extauthz"
	"github.com/stepgate/stepgate/pdp/forwardauth"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

const (
	envoyKey    = "sgk_envoy-key"
	envoyClient = "envoy"
	otherKey    = "sgk_other-key"
	webApp      = "web-app"
)

// auditLog keeps the decisions stepgate recorded.
type auditLog struct{ events []pdp.AuditEvent }

func (a *auditLog) Record(_ context.Context, evs []pdp.AuditEvent) error {
	a.events = append(a.events, evs...)
	return nil
}

type env struct {
	idp    *pdptest.Issuer
	client authv3.AuthorizationClient
}

// newEnv serves the Authorization service on a loopback TCP listener,
// over a real forwardauth.Handler and pdp.Service with the default
// policies (plus wire.send, which asks for CIBA from the web), and dials
// it with a gRPC client as Envoy would.
func newEnv(t *testing.T) *env {
	t.Helper()
	idp := pdptest.NewIssuer(t)
	ic := idp.Config(pdptest.DefaultAudience, webApp)
	ic.Authorize = &trust.AuthorizeConfig{ClientID: webApp, RedirectURI: "https://unused.example/cb", Scopes: []string{"openid"}}
	ic.CIBA = &trust.CIBAConfig{ClientID: "ciba", ClientSecret: "secret", LoginHint: "sub"}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Issuers: []trust.IssuerConfig{ic}})
	if err != nil {
		t.Fatal(err)
	}
	engine := policy.NewEngine(policy.EngineConfig{})
	files := withWireSend(t)
	if err := engine.Load(t.Context(), policy.Revision{ID: 1, Hash: files.Hash(), Files: files}); err != nil {
		t.Fatal(err)
	}
	txs := pdptest.NewTransactions()
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: verifier, Transactions: txs,
		CIBAOffers: pdptest.NewCIBAOffers(), Audit: &auditLog{}})
	if err != nil {
		t.Fatal(err)
	}
	fa, err := forwardauth.New(forwardauth.Config{Decider: svc, Verifier: verifier, Transactions: txs,
		Routes:  []forwardauth.Route{{Path: "/billing/**", Action: "billing.view"}, {Path: "/wire", Action: "wire.send"}},
		Default: forwardauth.DefaultRoute{Deny: true}, Keys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	clients := clientauth.NewAuthenticator(pdptest.Clients{
		clientauth.HashKey(envoyKey): {ID: envoyClient},
		clientauth.HashKey(otherKey): {ID: "other"},
	}, 0, nil)
	srv, err := extauthz.New(extauthz.Config{Decider: fa, Clients: clients, Client: envoyClient})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	srv.Register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &env{idp: idp, client: authv3.NewAuthorizationClient(conn)}
}

// withWireSend is the default bundle plus wire.send: MFA within 300s,
// approved on the phone (CIBA) when asked from the web.
func withWireSend(t *testing.T) policy.Files {
	t.Helper()
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	const name = "stepgate/data.json"
	var data map[string]any
	if err := json.Unmarshal(files[name], &data); err != nil {
		t.Fatal(err)
	}
	data["actions"].(map[string]any)["wire.send"] = map[string]any{"description": "Send a wire.",
		"mfa": true, "max_age": 300, "ciba": map[string]any{"channels": []any{"web"}}}
	if files[name], err = json.Marshal(data); err != nil {
		t.Fatal(err)
	}
	return files
}

// token mints alice's access token with amr, signed in age ago.
func (e *env) token(t *testing.T, amr []string, age time.Duration) string {
	now := time.Now()
	return e.idp.Mint(t, map[string]any{"sub": "alice", "aud": pdptest.DefaultAudience, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "auth_time": now.Add(-age).Unix(), "amr": amr})
}

// check sends what Envoy sends for one request, with the client key in
// the metadata unless key is empty.
func (e *env) check(t *testing.T, key, method, path string, headers map[string]string) (*authv3.CheckResponse, error) {
	t.Helper()
	ctx := t.Context()
	if key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, extauthz.MetadataClientKey, key)
	}
	hs := map[string]string{":authority": "app.example"}
	for k, v := range headers {
		hs[strings.ToLower(k)] = v
	}
	return e.client.Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: method, Scheme: "https", Host: "app.example", Path: path, Headers: hs}}}})
}

// headerOf returns the values of name among hs.
func headerOf(hs []*corev3.HeaderValueOption, name string) []string {
	var out []string
	for _, h := range hs {
		if strings.EqualFold(h.GetHeader().GetKey(), name) {
			out = append(out, h.GetHeader().GetValue())
		}
	}
	return out
}

func deniedOf(t *testing.T, res *authv3.CheckResponse, err error, status int) *authv3.DeniedHttpResponse {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	d := res.GetDeniedResponse()
	if d == nil || int(d.GetStatus().GetCode()) != status || res.GetStatus().GetCode() == int32(codes.OK) {
		t.Fatalf("want denied %d, got status %v, response %v", status, res.GetStatus(), res.GetHttpResponse())
	}
	return d
}

func TestCheck(t *testing.T) {
	e := newEnv(t)
	const api = "application/json"
	t.Run("allow sets the decision id and subject for the upstream", func(t *testing.T) {
		res, err := e.check(t, envoyKey, "GET", "/billing/invoices?page=2", map[string]string{
			"authorization": "Bearer " + e.token(t, []string{"pwd", "mfa"}, time.Minute), "accept": api,
			// a client's own attempt at the upstream headers
			forwardauth.HeaderSubject: "mallory", forwardauth.HeaderDecisionID: "forged"})
		if err != nil {
			t.Fatal(err)
		}
		ok := res.GetOkResponse()
		if res.GetStatus().GetCode() != int32(codes.OK) || ok == nil {
			t.Fatalf("not allowed: %v %v", res.GetStatus(), res.GetHttpResponse())
		}
		if sub := headerOf(ok.GetHeaders(), forwardauth.HeaderSubject); len(sub) != 1 || sub[0] != "alice" {
			t.Errorf("subject %q, want alice", sub)
		}
		id := headerOf(ok.GetHeaders(), forwardauth.HeaderDecisionID)
		if len(id) != 1 || id[0] == "" || id[0] == "forged" {
			t.Errorf("decision id %q", id)
		}
		for _, h := range ok.GetHeaders() {
			if h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
				t.Errorf("%s is appended to what the client sent, not overwritten", h.GetHeader().GetKey())
			}
		}
	})
	t.Run("deny is 403 with the JSON answer", func(t *testing.T) {
		res, err := e.check(t, envoyKey, "GET", "/admin", map[string]string{
			"authorization": "Bearer " + e.token(t, []string{"pwd", "mfa"}, time.Minute), "accept": api})
		d := deniedOf(t, res, err, 403)
		var b map[string]any
		if err := json.Unmarshal([]byte(d.GetBody()), &b); err != nil || b["decision"] != "deny" {
			t.Errorf("body %q: %v", d.GetBody(), err)
		}
		if ct := headerOf(d.GetHeaders(), "Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
	})
	t.Run("step-up of an API call is 401 with the RFC 9470 challenge", func(t *testing.T) {
		res, err := e.check(t, envoyKey, "POST", "/billing/pay", map[string]string{
			"authorization": "Bearer " + e.token(t, []string{"pwd"}, 2*time.Hour), "accept": api})
		d := deniedOf(t, res, err, 401)
		if res.GetStatus().GetCode() != int32(codes.Unauthenticated) {
			t.Errorf("gRPC status %v", res.GetStatus())
		}
		wa := headerOf(d.GetHeaders(), "Www-Authenticate")
		if len(wa) != 1 || !strings.Contains(wa[0], `error="insufficient_user_authentication"`) {
			t.Errorf("WWW-Authenticate %q", wa)
		}
		var b map[string]any
		if err := json.Unmarshal([]byte(d.GetBody()), &b); err != nil || b["decision"] != "step_up" {
			t.Errorf("body %q: %v", d.GetBody(), err)
		}
	})
	t.Run("a browser navigation is redirected to the IdP", func(t *testing.T) {
		res, err := e.check(t, envoyKey, "GET", "/billing/invoices", map[string]string{"accept": "text/html,application/xhtml+xml"})
		d := deniedOf(t, res, err, 302)
		loc := headerOf(d.GetHeaders(), "Location")
		if len(loc) != 1 {
			t.Fatalf("Location %q", loc)
		}
		u, err := url.Parse(loc[0])
		if err != nil || u.Query().Get("redirect_uri") != "https://app.example/_stepgate/callback" ||
			u.Query().Get("client_id") != webApp || u.Query().Get("code_challenge_method") != "S256" {
			t.Errorf("Location %q", loc[0])
		}
		if ck := headerOf(d.GetHeaders(), "Set-Cookie"); len(ck) != 1 || !strings.HasPrefix(ck[0], "stepgate_session_pending=") {
			t.Errorf("Set-Cookie %q: the sign-in in flight must be remembered", ck)
		}
	})
	t.Run("ciba is 401 with the status link", func(t *testing.T) {
		res, err := e.check(t, envoyKey, "POST", "/wire", map[string]string{
			"authorization": "Bearer " + e.token(t, []string{"pwd", "mfa"}, time.Minute), "accept": api})
		d := deniedOf(t, res, err, 401)
		link := headerOf(d.GetHeaders(), forwardauth.HeaderCIBAStatus)
		if len(link) != 1 || !strings.HasPrefix(link[0], "/v1/ciba/") {
			t.Errorf("status link %q", link)
		}
		var b struct {
			Decision string `json:"decision"`
			CIBA     struct {
				StatusURL string `json:"status_url"`
			} `json:"ciba"`
		}
		if err := json.Unmarshal([]byte(d.GetBody()), &b); err != nil || b.Decision != "ciba" || len(link) != 1 || b.CIBA.StatusURL != link[0] {
			t.Errorf("body %q: %v", d.GetBody(), err)
		}
	})
	t.Run("an API call without credentials is 401", func(t *testing.T) {
		res, err := e.check(t, envoyKey, "GET", "/billing/invoices", map[string]string{"accept": api})
		d := deniedOf(t, res, err, 401)
		if wa := headerOf(d.GetHeaders(), "Www-Authenticate"); len(wa) != 1 {
			t.Errorf("WWW-Authenticate %q", wa)
		}
	})
	t.Run("a request without HTTP attributes is 400", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(t.Context(), extauthz.MetadataClientKey, envoyKey)
		res, err := e.client.Check(ctx, &authv3.CheckRequest{})
		d := deniedOf(t, res, err, 400)
		if !strings.Contains(d.GetBody(), `"invalid_request"`) {
			t.Errorf("body %q", d.GetBody())
		}
	})
}

func TestCheckAuthenticatesEnvoy(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		key  string
		code codes.Code
	}{
		{"no key", "", codes.Unauthenticated},
		{"unknown key", "sgk_nobody", codes.Unauthenticated},
		{"another client's key", otherKey, codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.check(t, tt.key, "GET", "/billing/invoices", map[string]string{
				"authorization": "Bearer " + e.token(t, []string{"pwd", "mfa"}, time.Minute)})
			if status.Code(err) != tt.code || res != nil {
				t.Errorf("got %v, %v; want gRPC %v", res, err, tt.code)
			}
		})
	}
}
