package adminhttp_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

const testPassword = "correct-horse-battery"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// storeAudit writes admin records straight into the store (the real audit
// writer batches; the UI only needs Write to be durable).
type storeAudit struct{ s *sqlstore.Store }

func (a storeAudit) Write(ctx context.Context, rec storage.AuditRecord) error {
	rec.ChainID = "test"
	return a.s.AppendAudit(ctx, []storage.AuditRecord{rec})
}

type env struct {
	t        testing.TB
	store    *sqlstore.Store
	engine   *policy.Engine
	policies *admin.Policies
	clock    *clock
	handler  http.Handler
	active   storage.PolicyRevision
	// dbPath is the SQLite file, for tests that tamper behind the store.
	dbPath string
}

type envOption func(*adminhttp.Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlstore.Open(ctx, sqlstore.Config{URL: sqlstore.DefaultSQLiteURL(dir), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	eng := policy.NewEngine(policy.EngineConfig{})
	rec, err := admin.NewRecorder(admin.RecorderConfig{ChainID: "test", Log: storeAudit{st}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := admin.NewPolicies(admin.PoliciesConfig{Store: st, Recorder: rec, Compiler: eng, Now: clk.Now,
		OnActivate: func(ctx context.Context, rev storage.PolicyRevision) {
			files, err := policy.ReadTarball(rev.Bundle)
			if err == nil {
				_ = eng.Load(ctx, policy.Revision{ID: rev.ID, Hash: rev.Hash, Files: files})
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.EnsureBootstrapPassword(ctx, st, rec, "setup", testPassword); err != nil {
		t.Fatal(err)
	}
	cheapenBootstrapPassword(t, st)
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	rev, _, err := pol.Push(ctx, "setup", files, "default policy", true)
	if err != nil {
		t.Fatalf("push default policy: %v", err)
	}
	cfg := adminhttp.Config{Store: st, Policies: pol, Audit: storeAudit{st}, Engine: eng, Now: clk.Now,
		IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 8 * time.Hour, PasswordCost: bcrypt.MinCost,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := adminhttp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: st, engine: eng, policies: pol, clock: clk, handler: h, active: rev,
		dbPath: filepath.Join(dir, "stepgate.db")}
}

// browser keeps cookies and the last CSRF token like a browser would.
type browser struct {
	e       *env
	cookies map[string]string
	csrf    string
}

func (e *env) browser() *browser { return &browser{e: e, cookies: map[string]string{}} }

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

type response struct {
	Code     int
	Body     string
	Header   http.Header
	Location string
}

func (b *browser) do(method, path string, body io.Reader, hdr map[string]string) response {
	b.e.t.Helper()
	req := httptest.NewRequest(method, path, body)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.e.handler.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	r := response{Code: rec.Code, Body: rec.Body.String(), Header: rec.Header(), Location: rec.Header().Get("Location")}
	if m := csrfRE.FindStringSubmatch(r.Body); m != nil {
		b.csrf = m[1]
	}
	return r
}

func (b *browser) get(path string) response { return b.do(http.MethodGet, path, nil, nil) }

// post submits a form with the last CSRF token seen unless form sets _csrf.
func (b *browser) post(path string, form url.Values) response {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", b.csrf)
	}
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// signIn signs the bootstrap admin in.
func (b *browser) signIn() {
	b.e.t.Helper()
	b.get("/login")
	r := b.post("/login", url.Values{"user": {"admin"}, "password": {testPassword}})
	if r.Code != http.StatusSeeOther {
		b.e.t.Fatalf("sign in: status %d: %s", r.Code, r.Body)
	}
	b.get("/")
}

// auditor returns a browser signed in as an auditor (a session created
// directly, as SSO would).
func (e *env) auditor() *browser {
	e.t.Helper()
	s, err := admin.NewSessions(admin.SessionsConfig{Store: e.store, Recorder: e.policies.Recorder(), Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	sess, err := s.Create(context.Background(), admin.Session{User: "audrey@example.com", Role: admin.RoleAuditor, Method: "sso",
		Issuer: "https://idp.example", Subject: "sub-audrey"})
	if err != nil {
		e.t.Fatal(err)
	}
	b := e.browser()
	b.cookies["sg_session"] = sess.Key()
	b.get("/")
	return b
}

func mustContain(t testing.TB, r response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.Body, p) {
			t.Fatalf("response (%d) does not contain %q:\n%s", r.Code, p, r.Body)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// fieldValue returns the value of the hidden input named name.
func fieldValue(body, name string) string {
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// textarea returns the content of the textarea named name.
func textarea(body, name string) string {
	m := regexp.MustCompile(`(?s)<textarea[^>]*name="` + regexp.QuoteMeta(name) + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// cheapenBootstrapPassword rehashes the bootstrap admin's password at
// bcrypt's lowest cost: at the production cost every hash and sign-in
// takes over a second under the race detector, which the many sign-ins of
// this package's tests multiply into minutes. What a hash costs is not what
// these tests are about (admin's own tests cover the bootstrap account).
func cheapenBootstrapPassword(t testing.TB, st storage.Store) {
	t.Helper()
	ctx := context.Background()
	u, err := st.GetAdminUser(ctx, admin.BootstrapAdmin)
	if err != nil {
		t.Fatal(err)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = string(h)
	if _, err := st.UpdateAdminUser(ctx, u); err != nil {
		t.Fatal(err)
	}
}
