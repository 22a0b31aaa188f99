package backchannel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
)

const (
	fakeClientID = "ciba-client"
	fakeSecret   = "s3cret/+="
	fakeIssuer   = "https://idp.example"
)

// answer is one scripted token endpoint response.
type answer struct {
	status int
	body   string
}

var (
	pending  = answer{400, `{"error":"authorization_pending"}`}
	slowDown = answer{400, `{"error":"slow_down"}`}
	denied   = answer{400, `{"error":"access_denied","error_description":"user said no"}`}
	expired  = answer{400, `{"error":"expired_token"}`}
	approved = answer{200, `{"id_token":"raw.id.token","access_token":"at","token_type":"Bearer","expires_in":3600}`}
	broken   = answer{502, `<html>bad gateway</html>`}
)

// fakeIdP is a Go backchannel + token endpoint with scripted answers.
type fakeIdP struct {
	*httptest.Server
	mu       sync.Mutex
	ack      string // JSON of the backchannel acknowledgement
	script   map[string][]answer
	backForm []url.Values
	polls    map[string]int
}

func newFakeIdP(t testing.TB) *fakeIdP {
	t.Helper()
	f := &fakeIdP{
		ack:    `{"auth_req_id":"req-1","expires_in":120,"interval":2}`,
		script: map[string][]answer{},
		polls:  map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bc", f.backchannel)
	mux.HandleFunc("POST /token", f.token)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIdP) endpoints() backchannel.Endpoints {
	return backchannel.Endpoints{Backchannel: f.URL + "/bc", Token: f.URL + "/token"}
}

// authenticate accepts client_secret_basic (form-encoded parts) and client_secret_post.
func authenticate(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id == fakeClientID && secret == fakeSecret
}

func (f *fakeIdP) backchannel(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backForm = append(f.backForm, r.PostForm)
	if !authenticate(r) {
		write(w, answer{401, `{"error":"invalid_client","error_description":"client authentication failed"}`})
		return
	}
	if r.PostForm.Get("login_hint") == "nobody" {
		write(w, answer{400, `{"error":"unknown_user_id"}`})
		return
	}
	write(w, answer{200, f.ack})
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !authenticate(r) {
		write(w, answer{401, `{"error":"invalid_client"}`})
		return
	}
	if r.PostForm.Get("grant_type") != backchannel.GrantType {
		write(w, answer{400, `{"error":"unsupported_grant_type"}`})
		return
	}
	id := r.PostForm.Get("auth_req_id")
	f.polls[id]++
	queue := f.script[id]
	switch len(queue) {
	case 0:
		write(w, answer{400, `{"error":"invalid_grant","error_description":"unknown auth_req_id"}`})
	case 1:
		write(w, queue[0]) // the last answer repeats
	default:
		write(w, queue[0])
		f.script[id] = queue[1:]
	}
}

func (f *fakeIdP) answers(authReqID string, a ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[authReqID] = a
}

func (f *fakeIdP) pollCount(authReqID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls[authReqID]
}

func write(w http.ResponseWriter, a answer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	fmt.Fprint(w, a.body)
}

// staticResolver resolves every issuer to one set of endpoints and credentials.
type staticResolver struct {
	ep    backchannel.Endpoints
	creds backchannel.Credentials
}

func (s staticResolver) Resolve(_ context.Context, issuer string) (backchannel.Endpoints, backchannel.Credentials, error) {
	if issuer != fakeIssuer {
		return backchannel.Endpoints{}, backchannel.Credentials{}, fmt.Errorf("issuer %q is not configured", issuer)
	}
	return s.ep, s.creds, nil
}

// fakeClock is the poller's clock and scheduler: time moves only by Advance.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	waiting chan struct{} // receives whenever After registers a waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), waiting: make(chan struct{}, 64)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	c.waiting <- struct{}{}
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// recorder collects the reports a poller sends on Config.Changes (ch).
// The poller sends before the call that made a change returns, so a test
// reads what a call reported right after it (drain).
type recorder struct {
	mu     sync.Mutex
	states []backchannel.State
	ch     chan backchannel.Change
}

func newRecorder() *recorder { return &recorder{ch: make(chan backchannel.Change, 100)} }

// drain moves the reports waiting on ch into states; call with mu held.
func (r *recorder) drain() {
	for {
		select {
		case c := <-r.ch:
			r.states = append(r.states, c.State)
		default:
			return
		}
	}
}

// all is every report so far.
func (r *recorder) all() []backchannel.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drain()
	return append([]backchannel.State(nil), r.states...)
}

// last is the latest report.
func (r *recorder) last() backchannel.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drain()
	if len(r.states) == 0 {
		return backchannel.State{}
	}
	return r.states[len(r.states)-1]
}

func (r *recorder) statuses() []backchannel.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drain()
	var out []backchannel.Status
	for _, s := range r.states {
		out = append(out, s.Status)
	}
	return out
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}
