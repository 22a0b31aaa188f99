//go:build unix

package flowtest

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeCIBA is a Go token endpoint scripted per poll, with a backchannel
// endpoint that acknowledges every request.
type fakeCIBA struct {
	mu     sync.Mutex
	script []string // OAuth error per poll; "" = approve
	polls  int
}

func (f *fakeCIBA) install(m *mintedIdP) {
	m.Handle("POST /bc-authorize", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"auth_req_id":"req-1","expires_in":120,"interval":1}`))
	}))
	m.Handle("POST /token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		answer := f.script[min(f.polls, len(f.script)-1)]
		f.polls++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if answer != "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"` + answer + `"}`))
			return
		}
		_, _ = w.Write([]byte(`{"token_type":"Bearer","access_token":"at","id_token":"` + m.approval(r) + `"}`))
	}))
}

func (f *fakeCIBA) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.polls }

// approval mints the CIBA client's ID token for a multi-factor approval.
func (m *mintedIdP) approval(*http.Request) string {
	now := m.e.clock.Now()
	return m.Mint(m.t, map[string]any{"sub": "alice", "aud": cibaID, "amr": []string{"pwd", "otp", "mfa"},
		"auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
}

// TestCIBASlowDown: every slow_down adds 5 s to the interval, and stepgate
// does not poll again before it has passed.
func TestCIBASlowDown(t *testing.T) {
	m := newMintedEnv(t)
	f := &fakeCIBA{script: []string{"authorization_pending", "slow_down", "authorization_pending", ""}}
	f.install(m)
	e := m.e
	d := callCentre(t, e, m.login(t, time.Minute, "idp-sid-1"))
	st := e.startCIBA(t, d.ID)
	steps := []struct {
		wait  time.Duration
		polls int
		want  string
	}{
		{time.Second, 1, "pending"},     // authorization_pending: interval stays 1 s
		{time.Second, 2, "pending"},     // slow_down: interval 6 s
		{5 * time.Second, 2, "pending"}, // too early
		{time.Second, 3, "pending"},     // 6 s after the slow_down
		{5 * time.Second, 3, "pending"}, // still 6 s apart
		{time.Second, 4, "approved"},
	}
	for i, s := range steps {
		got := e.poll(t, e.runner, s.wait, st.ID)
		if got.Status != s.want || f.count() != s.polls {
			t.Fatalf("step %d: status %s after %d polls, want %s after %d", i, got.Status, f.count(), s.want, s.polls)
		}
	}
}
