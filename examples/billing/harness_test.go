//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/examples/billing/internal/demostack"
	"github.com/stepgate/stepgate/pdp/pdptest"
)

// testWindow is billing.view's max_age in the tests' policy revision. The
// provider and stepgate run on real time (the provider is a separate Node
// process, stepgate a separate binary), so the tests prove "asked again
// after the window" by pushing a window of a few seconds and waiting it
// out; the launcher keeps the shipped 15 minutes.
const testWindow = 5 * time.Second

// stack is the demo as the launcher runs it, on free ports: the real test
// provider, a built stepgate binary with the demo's configuration and
// policy, and the app in-process (so tests can look at its sessions).
type stack struct {
	app    *App
	url    string
	idp    *pdptest.OIDCProvider
	sg     *demostack.Running
	log    *syncBuffer
	counts *pathCounter
}

// otherAppID is a second app at the provider, sharing the user's provider
// session with the demo (single sign-on); it redirects to otherAppPath on
// the demo's host, where nothing answers.
const (
	otherAppID   = "reports-web"
	otherAppPath = "/reports/callback"
)

func startStack(t testing.TB) *stack {
	t.Helper()
	return startStackWindow(t, testWindow)
}

// startStackWindow is startStack with billing.view's max_age set to window.
func startStackWindow(t testing.TB, window time.Duration) *stack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{url: "http://" + ln.Addr().String(), log: &syncBuffer{}, counts: &pathCounter{n: map[string]int{}}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stepgate and app output:\n%s", s.log.String())
		}
	})
	s.idp = pdptest.StartOIDCProvider(t, pdptest.ProviderConfig{
		Clients: []pdptest.ProviderClient{{ID: demostack.AppClientID, RedirectURIs: demostack.AppRedirectURIs(s.url)},
			pdptest.AppClient(otherAppID, s.url+otherAppPath), pdptest.CIBAClient(demostack.CIBAClientID, demostack.CIBASecret)},
		Users: []pdptest.ProviderUser{{Sub: demostack.Username, Username: demostack.Username, Password: demostack.Password,
			OTP: demostack.OTP, Email: demostack.Username + "@example.test"}, {Sub: demostack.PhonelessUsername,
			Username: demostack.PhonelessUsername, Password: demostack.PhonelessPassword, OTP: demostack.OTP}},
		Resource: demostack.Resource,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := demostack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "stepgate")
	if err := demostack.Build(ctx, root, "./cmd/stepgate", bin); err != nil {
		t.Fatal(err)
	}
	sg := demostack.Stepgate{Bin: bin, Dir: dir, Log: s.log, Config: demostack.StepgateConfig{
		Issuer: s.idp.Issuer(), AppURL: s.url, DecisionAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		DataDir: filepath.Join(dir, "data")}}
	if err := sg.PushPolicy(ctx, window); err != nil {
		t.Fatal(err)
	}
	if s.sg, err = sg.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.sg.Stop(); err != nil {
			t.Error(err)
		}
	})

	s.app, err = New(ctx, Config{BaseURL: s.url, Issuer: s.idp.Issuer(), ClientID: demostack.AppClientID,
		StepgateURL: s.sg.DecisionURL, StepgateKey: demostack.AppKey, PhoneSimulator: true, PhoneUsers: []string{demostack.Username}, BillingWindow: window,
		Logger: slog.New(slog.NewTextHandler(s.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.counts.wrap(s.app.Handler()), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// onlySession returns the app's one session (tests sign in one user).
func (s *stack) onlySession(t testing.TB) *session {
	t.Helper()
	st := s.app.sessions
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.byKey) != 1 {
		t.Fatalf("the app has %d sessions, want 1", len(st.byKey))
	}
	for _, sess := range st.byKey {
		return sess
	}
	return nil
}

// decide asks stepgate directly, as the app would, with a token and session.
func (s *stack) decide(t testing.TB, token, sessionID string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"token": token, "action": "billing.view", "session_id": sessionID})
	req, err := http.NewRequest(http.MethodPost, s.sg.DecisionURL+"/v1/decision", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+demostack.AppKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Decision string   `json:"decision"`
		Reasons  []string `json:"reasons"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("decision: HTTP %d %v", resp.StatusCode, err)
	}
	return d.Decision
}

// waitOutWindow waits until a step-up completed at done has expired both
// at stepgate (elevation until auth_time + window, and auth_time ≤ done)
// and at the provider (max_age counted in whole seconds). Real time is the
// only clock all three processes share.
func waitOutWindow(done time.Time) {
	time.Sleep(time.Until(done.Add(testWindow + 1500*time.Millisecond)))
}

// pathCounter counts the app's requests by path and remembers the last
// URL of each path.
type pathCounter struct {
	mu   sync.Mutex
	n    map[string]int
	last map[string]string
}

func (c *pathCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.n[r.URL.Path]++
		if c.last == nil {
			c.last = map[string]string{}
		}
		c.last[r.URL.Path] = r.URL.RequestURI()
		c.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// lastURL is the request URI of the last request for path.
func (c *pathCounter) lastURL(path string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[path]
}

func (c *pathCounter) get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

// syncBuffer collects output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
