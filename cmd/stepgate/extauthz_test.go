package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/stepgate/stepgate/pdp/extauthz"
)

var extAuthzRE = regexp.MustCompile(`stepgate: ext_authz listening on grpc://(\S+)`)

// serve with forward_auth and STEPGATE_EXT_AUTHZ_ADDR answers Envoy's
// ext_authz Check on its own listener, for the forward-auth client only.
func TestServeExtAuthz(t *testing.T) {
	e := testEnv(t)
	file := filepath.Join(t.TempDir(), "stepgate.yaml")
	conf := `issuers:
  - issuer: http://127.0.0.1:9
    audiences: [https://api.example]
    authorize: {client_id: web-app, scopes: [openid]}
clients:
  - {id: envoy, key: sgk_envoy-test-key}
forward_auth:
  client: envoy
  routes: [{path: "/billing/**", action: billing.view}]
  default: {deny: true}
`
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	e["STEPGATE_CONFIG"] = file
	e[envExtAuthzAddr] = "127.0.0.1:0"
	s := startServer(t, e)
	m := extAuthzRE.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no ext_authz listener announced:\n%s", s.out)
	}
	conn, err := grpc.NewClient(m[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := authv3.NewAuthorizationClient(conn)
	req := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Scheme: "https", Host: "app.example", Path: "/billing/1",
			Headers: map[string]string{"accept": "application/json"}}}}}

	ctx := metadata.AppendToOutgoingContext(context.Background(), extauthz.MetadataClientKey, "sgk_envoy-test-key")
	res, err := client.Check(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	d := res.GetDeniedResponse()
	if d == nil || d.GetStatus().GetCode() != 401 {
		t.Fatalf("an API call without credentials: %v, want a denied 401", res)
	}
	var challenge string
	for _, h := range d.GetHeaders() {
		if strings.EqualFold(h.GetHeader().GetKey(), "WWW-Authenticate") {
			challenge = h.GetHeader().GetValue()
		}
	}
	if challenge != `Bearer realm="stepgate"` {
		t.Errorf("WWW-Authenticate %q", challenge)
	}
	if _, err := client.Check(context.Background(), req); grpcstatus.Code(err) != codes.Unauthenticated {
		t.Errorf("without the key: %v, want Unauthenticated", err)
	}
}

// STEPGATE_EXT_AUTHZ_ADDR without forward_auth is a configuration error,
// not a listener that silently stays off.
func TestExtAuthzNeedsForwardAuth(t *testing.T) {
	e := testEnv(t)
	e[envExtAuthzAddr] = "127.0.0.1:0"
	err := run(t.Context(), nil, e.get, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), envExtAuthzAddr) {
		t.Fatalf("run: %v, want an error naming %s", err, envExtAuthzAddr)
	}
}
