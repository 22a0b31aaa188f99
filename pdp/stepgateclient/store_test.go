package stepgateclient_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

// tab is one browser (its cookie jar) talking to a CookieStore; requests
// carry the jar's cookies and responses update it, as Chromium would.
type tab struct {
	t   testing.TB
	jar http.CookieJar
	s   stepgateclient.CookieStore
}

var appURL, _ = url.Parse("http://app.test/callback")

func newTab(t testing.TB, s stepgateclient.CookieStore) *tab {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, jar: jar, s: s}
}

func (b *tab) request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, appURL.String(), nil)
	for _, c := range b.jar.Cookies(appURL) {
		r.AddCookie(c)
	}
	return r
}

func (b *tab) keep(rec *httptest.ResponseRecorder) {
	b.jar.SetCookies(appURL, rec.Result().Cookies())
}

func (b *tab) save(p stepgateclient.Pending) {
	b.t.Helper()
	rec := httptest.NewRecorder()
	if err := b.s.SaveStepUp(rec, b.request(), p); err != nil {
		b.t.Fatalf("save %s: %v", p.State, err)
	}
	b.keep(rec)
}

func (b *tab) take(state string) (stepgateclient.Pending, error) {
	rec := httptest.NewRecorder()
	p, err := b.s.TakeStepUp(rec, b.request(), state)
	b.keep(rec)
	return p, err
}

func pending(n int, exp time.Time) stepgateclient.Pending {
	return stepgateclient.Pending{TransactionID: fmt.Sprintf("tx%d", n), State: fmt.Sprintf("state-%d", n),
		CodeVerifier: fmt.Sprintf("cv%d", n), ReturnTo: fmt.Sprintf("/billing?tab=%d", n), ExpiresAt: exp,
		DecisionID: fmt.Sprintf("d%d", n)}
}

var testKey = []byte(strings.Repeat("k", 32))

func TestCookieStoreManyTransactions(t *testing.T) {
	c := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	b := newTab(t, stepgateclient.CookieStore{Key: testKey, Path: "/callback", Now: c.Now})
	const n = 8 // the default Max: all of them stay
	for i := range n {
		b.save(pending(i, c.Now().Add(5*time.Minute)))
		c.Advance(time.Second)
	}
	// A forged state first: it must not disturb any of them.
	if _, err := b.take("forged"); !errors.Is(err, stepgateclient.ErrUnknownState) {
		t.Fatalf("forged state: %v, want ErrUnknownState", err)
	}
	for _, i := range rand.Perm(n) {
		got, err := b.take(fmt.Sprintf("state-%d", i))
		if err != nil || got.CodeVerifier != fmt.Sprintf("cv%d", i) || got.ReturnTo != fmt.Sprintf("/billing?tab=%d", i) ||
			got.DecisionID != fmt.Sprintf("d%d", i) {
			t.Fatalf("take state-%d = %+v, %v; want its own step-up", i, got, err)
		}
	}
	for i := range n {
		got, err := b.take(fmt.Sprintf("state-%d", i))
		if !errors.Is(err, stepgateclient.ErrReplayed) || got.ReturnTo != fmt.Sprintf("/billing?tab=%d", i) || got.CodeVerifier != "" {
			t.Fatalf("replay of state-%d = %+v, %v; want ErrReplayed with the return page and no verifier", i, got, err)
		}
	}
}

func TestCookieStoreExpiry(t *testing.T) {
	c := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	b := newTab(t, stepgateclient.CookieStore{Key: testKey, Now: c.Now, TTL: 10 * time.Minute})
	b.save(pending(1, c.Now().Add(time.Minute)))
	b.save(pending(2, c.Now().Add(time.Hour))) // bounded by TTL: 10 minutes
	c.Advance(2 * time.Minute)
	b.save(pending(3, c.Now().Add(5*time.Minute)))
	got, err := b.take("state-1")
	if !errors.Is(err, stepgateclient.ErrExpired) || got.ReturnTo != "/billing?tab=1" {
		t.Fatalf("expired step-up: %+v, %v; want ErrExpired with its return page", got, err)
	}
	if _, err := b.take("state-3"); err != nil {
		t.Fatalf("a fresh step-up beside an expired one: %v", err)
	}
	c.Advance(9 * time.Minute)
	if _, err := b.take("state-2"); !errors.Is(err, stepgateclient.ErrExpired) {
		t.Fatalf("a step-up past the store's TTL: %v, want ErrExpired", err)
	}
}

func TestCookieStoreCap(t *testing.T) {
	c := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	b := newTab(t, stepgateclient.CookieStore{Key: testKey, Max: 3, Now: c.Now})
	for i := range 5 {
		b.save(pending(i, c.Now().Add(5*time.Minute)))
		c.Advance(time.Second)
	}
	if got := len(b.jar.Cookies(appURL)); got != 3 {
		t.Fatalf("%d step-up cookies after 5 saves with Max 3", got)
	}
	for i := range 2 {
		if _, err := b.take(fmt.Sprintf("state-%d", i)); !errors.Is(err, stepgateclient.ErrUnknownState) {
			t.Fatalf("evicted oldest state-%d: %v, want ErrUnknownState", i, err)
		}
	}
	// Taking one leaves a replay marker; the next save drops the marker,
	// not a pending step-up.
	if _, err := b.take("state-2"); err != nil {
		t.Fatal(err)
	}
	b.save(pending(5, c.Now().Add(5*time.Minute)))
	for _, i := range []int{3, 4, 5} {
		if _, err := b.take(fmt.Sprintf("state-%d", i)); err != nil {
			t.Fatalf("state-%d after the cap dropped a marker: %v", i, err)
		}
	}
}

func TestCookieStoreRefusesForgedCookies(t *testing.T) {
	s := stepgateclient.CookieStore{Key: testKey}
	rec := httptest.NewRecorder()
	if err := s.SaveStepUp(rec, nil, pending(1, time.Now().Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	real := rec.Result().Cookies()[0]
	if !real.HttpOnly || real.SameSite != http.SameSiteLaxMode || real.MaxAge <= 0 {
		t.Fatalf("cookie %+v, want HttpOnly, SameSite=Lax, short-lived", real)
	}
	other := httptest.NewRecorder()
	if err := (stepgateclient.CookieStore{Key: []byte(strings.Repeat("x", 32))}).SaveStepUp(other, nil, pending(1, time.Now().Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, value string
	}{
		{"tampered payload", "A" + real.Value},
		{"no signature", strings.Split(real.Value, ".")[0]},
		{"signed with another key", other.Result().Cookies()[0].Value},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/callback", nil)
			req.AddCookie(&http.Cookie{Name: real.Name, Value: tc.value})
			if _, err := s.TakeStepUp(httptest.NewRecorder(), req, "state-1"); !errors.Is(err, stepgateclient.ErrUnknownState) {
				t.Fatalf("TakeStepUp = %v, want ErrUnknownState", err)
			}
		})
	}
	if err := (stepgateclient.CookieStore{Key: []byte("short")}).SaveStepUp(httptest.NewRecorder(), nil, pending(1, time.Now())); err == nil {
		t.Fatal("a short key was accepted")
	}
}

// TestCookieStoreConcurrentTabs runs many tabs of one browser at once, each
// starting and finishing its own step-up through a real server: none may
// lose its step-up to another.
func TestCookieStoreConcurrentTabs(t *testing.T) {
	s := stepgateclient.CookieStore{Key: testKey, Max: 64}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.URL.Query().Get("n")
		if r.URL.Path == "/start" {
			p := stepgateclient.Pending{State: "state-" + n, CodeVerifier: "cv" + n, ExpiresAt: time.Now().Add(time.Minute)}
			if err := s.SaveStepUp(w, r, p); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
			return
		}
		p, err := s.TakeStepUp(w, r, "state-"+n)
		if err != nil || p.CodeVerifier != "cv"+n {
			http.Error(w, fmt.Sprintf("%+v %v", p, err), http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			for _, path := range []string{"/start", "/callback"} {
				resp, err := client.Get(fmt.Sprintf("%s%s?n=%d", srv.URL, path, i))
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("tab %d %s: HTTP %d", i, path, resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
