package authzentest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/api/apitest"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/authzen"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

const (
	testClientKey = "sgk_authzen_test"
	testClientID  = "authzen-pep"
)

// fakeClients knows one client key.
type fakeClients struct{}

func (fakeClients) Authenticate(_ context.Context, key string) (clientauth.Client, error) {
	if key == testClientKey {
		return clientauth.Client{ID: testClientID}, nil
	}
	return clientauth.Client{}, clientauth.ErrUnauthenticated
}

// auditSpy records what the service hands to the audit trail.
type auditSpy struct {
	mu     sync.Mutex
	events []pdp.AuditEvent
}

func (a *auditSpy) Record(_ context.Context, events []pdp.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, events...)
	return nil
}

func (a *auditSpy) recorded() []pdp.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]pdp.AuditEvent(nil), a.events...)
}

// repoRoot walks up from the test's directory to the module root.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			tb.Fatalf("no go.mod above %s", wd)
		}
	}
}

// bundleRevision reads testdata/authzen/<name> as a policy revision, the way
// a pushed bundle directory becomes one.
func bundleRevision(tb testing.TB, name string) policy.Revision {
	tb.Helper()
	files, err := policy.ReadFS(os.DirFS(filepath.Join(repoRoot(tb), "testdata", "authzen", name)))
	if err != nil {
		tb.Fatalf("read bundle %s: %v", name, err)
	}
	return policy.Revision{ID: 1, Hash: files.Hash(), Files: files}
}

func fsRevision(tb testing.TB, fsys fs.FS) policy.Revision {
	tb.Helper()
	files, err := policy.ReadFS(fsys)
	if err != nil {
		tb.Fatal(err)
	}
	return policy.Revision{ID: 7, Hash: files.Hash(), Files: files}
}

// azServer is the real decision router with the AuthZEN routes on httptest.
type azServer struct {
	URL   string
	audit *auditSpy
}

type serverOptions struct {
	issuers []trust.IssuerConfig
	baseURL string
	noAudit bool
}

func startAuthZEN(tb testing.TB, rev policy.Revision, opts serverOptions) *azServer {
	tb.Helper()
	ctx := context.Background()
	engine := policy.NewEngine(policy.EngineConfig{Compile: policy.CompileOptions{Timeout: 5 * time.Second}})
	if err := engine.Load(ctx, rev); err != nil {
		tb.Fatalf("load revision: %v", err)
	}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Issuers: opts.issuers})
	if err != nil {
		tb.Fatal(err)
	}
	spy := &auditSpy{}
	svc, err := pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: verifier, Transactions: pdptest.NewTransactions(), Audit: spy})
	if err != nil {
		tb.Fatal(err)
	}
	searcher, err := authzen.NewSearcher(authzen.SearcherConfig{Service: svc, Revision: func(_ context.Context, id int64) (policy.Revision, error) {
		if id != rev.ID {
			return policy.Revision{}, errors.New("no such revision")
		}
		return rev, nil
	}})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := pdphttp.New(pdphttp.Config{Service: svc, Clients: fakeClients{}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.RegisterAuthZEN(pdphttp.AuthZENConfig{BaseURL: opts.baseURL, Search: searcher}); err != nil {
		tb.Fatal(err)
	}
	// Every response of every test is checked against the OpenAPI document.
	ts := httptest.NewServer(apitest.Handler(tb, s))
	tb.Cleanup(ts.Close)
	return &azServer{URL: ts.URL, audit: spy}
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(tb testing.TB) map[string]json.RawMessage {
	tb.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// do sends a request with the test client's key unless headers set
// Authorization; contentType "" sends none.
func (a *azServer) do(tb testing.TB, method, path, contentType string, body []byte, headers map[string]string) response {
	tb.Helper()
	req, err := http.NewRequest(method, a.URL+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+testClientKey)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// post sends v as JSON.
func (a *azServer) post(tb testing.TB, path string, v any) response {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return a.do(tb, http.MethodPost, path, "application/json", b, nil)
}

// compact re-encodes JSON without insignificant whitespace, keeping member order.
func compact(tb testing.TB, raw []byte) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		tb.Fatalf("compact %s: %v", raw, err)
	}
	return buf.String()
}
