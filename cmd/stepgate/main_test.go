package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

type env map[string]string

func (e env) get(k string) string { return e[k] }

func testEnv(t testing.TB) env {
	return env{
		"STEPGATE_DATA_DIR": t.TempDir(),
		// Beside the data dir by default, which is outside the test's
		// temporary directory.
		"STEPGATE_AUDIT_WITNESS_FILE": filepath.Join(t.TempDir(), "witness", "checkpoints.jsonl"),
		"STEPGATE_DECISION_ADDR":      "127.0.0.1:0",
		"STEPGATE_ADMIN_ADDR":         "127.0.0.1:0",
		"STEPGATE_LOG_LEVEL":          "warn",
	}
}

// server is a running `stepgate serve`.
type server struct {
	out      *syncBuffer
	decision string
	admin    string
	stop     func() error
}

var listenRE = regexp.MustCompile(`stepgate: (decision API|admin UI) listening on (http://\S+)`)

func startServer(t *testing.T, e env) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{out: &syncBuffer{}}
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, nil, e.get, s.out, &syncBuffer{}) }()
	deadline := time.Now().Add(20 * time.Second)
	for s.decision == "" || s.admin == "" {
		select {
		case err := <-errc:
			t.Fatalf("serve exited early: %v\n%s", err, s.out)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", s.out)
		}
		for _, m := range listenRE.FindAllStringSubmatch(s.out.String(), -1) {
			if m[1] == "decision API" {
				s.decision = m[2]
			} else {
				s.admin = m[2]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-errc:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("serve did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	return s
}

func (s *server) decide(t *testing.T, key, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.decision+"/v1/decision", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("decision: status %d, %v %v", resp.StatusCode, m, err)
	}
	return m
}

var keyRE = regexp.MustCompile(`client "dev" key: (sgk_\S+)`)

func TestFirstRunAnswersEveryOutcome(t *testing.T) {
	e := testEnv(t)
	s := startServer(t, e)
	m := keyRE.FindStringSubmatch(s.out.String())
	if m == nil || !strings.Contains(s.out.String(), `admin UI user "admin" password:`) {
		t.Fatalf("first start did not show the secrets:\n%s", s.out)
	}
	key := m[1]
	now := time.Now().Unix()
	for _, tc := range []struct{ body, want string }{
		{fmt.Sprintf(`{"claims":{"sub":"alice","amr":["pwd","mfa"],"auth_time":%d},"action":"billing.view"}`, now-60), "allow"},
		{fmt.Sprintf(`{"claims":{"sub":"alice","amr":["pwd"],"auth_time":%d},"action":"billing.view"}`, now-3600), "step_up"},
		{fmt.Sprintf(`{"claims":{"sub":"alice","amr":["mfa"],"auth_time":%d},"action":"billing.pay","context":{"channel":"call_center","amount":5000}}`, now-60), "ciba"},
		{fmt.Sprintf(`{"claims":{"sub":"alice","amr":["mfa"],"auth_time":%d},"action":"unknown.thing"}`, now-60), "deny"},
	} {
		if d := s.decide(t, key, tc.body); d["decision"] != tc.want {
			t.Errorf("decision %v, want %s (%v)", d["decision"], tc.want, d["reasons"])
		}
	}
	for _, path := range []string{s.decision + "/healthz", s.decision + "/readyz", s.decision + "/metrics", s.admin + "/healthz"} {
		resp, err := http.Get(path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	if err := s.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}

	// A restart keeps the data and shows no secret again.
	s2 := startServer(t, e)
	if strings.Contains(s2.out.String(), "sgk_") || strings.Contains(s2.out.String(), "password") {
		t.Errorf("second start showed secrets again:\n%s", s2.out)
	}
	if d := s2.decide(t, key, fmt.Sprintf(`{"claims":{"sub":"bob","amr":["mfa"],"auth_time":%d},"action":"billing.view"}`, now)); d["decision"] != "allow" {
		t.Errorf("after restart: %v", d)
	}
	if err := s2.stop(); err != nil {
		t.Fatal(err)
	}

	// Every acknowledged decision and the four admin changes of the first
	// start are in an intact chain.
	var out syncBuffer
	if err := run(context.Background(), []string{"audit", "verify"}, e.get, &out, &out); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "9 records") {
		t.Errorf("audit verify: %s (want 5 decisions + push + activate + dev client + admin password = 9 records)", out.String())
	}
}

func TestBootstrapKeyFromEnvironment(t *testing.T) {
	e := testEnv(t)
	e["STEPGATE_BOOTSTRAP_CLIENT_KEY"] = "sgk_chosen-by-the-operator-0123456789"
	e["STEPGATE_BOOTSTRAP_ADMIN_PASSWORD"] = "a long admin password"
	s := startServer(t, e)
	if strings.Contains(s.out.String(), "sgk_chosen") || strings.Contains(s.out.String(), "a long admin") {
		t.Errorf("secrets given by the operator were printed:\n%s", s.out)
	}
	d := s.decide(t, e["STEPGATE_BOOTSTRAP_CLIENT_KEY"], `{"claims":{"sub":"a"},"action":"profile.update"}`)
	if d["decision"] != "step_up" {
		t.Errorf("decision with the configured key: %v", d)
	}
}

func TestAuthZENIsServed(t *testing.T) {
	e := testEnv(t)
	s := startServer(t, e)
	key := keyRE.FindStringSubmatch(s.out.String())[1]
	resp, err := http.Get(s.decision + "/.well-known/authzen-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if resp.StatusCode != 200 || meta["access_evaluation_endpoint"] == nil {
		t.Fatalf("authzen configuration: %d %v", resp.StatusCode, meta)
	}
	req, _ := http.NewRequest(http.MethodPost, s.decision+"/access/v1/evaluation", strings.NewReader(
		`{"subject":{"type":"user","id":"alice"},"action":{"name":"unknown.thing"},"resource":{"type":"x","id":"1"}}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if resp.StatusCode != 200 || d["decision"] != false {
		t.Fatalf("authzen evaluation: %d %v", resp.StatusCode, d)
	}
}
