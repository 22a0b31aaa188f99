package enrollment_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/enrollment"
	"github.com/stepgate/stepgate/pdp/ciba/enrollment/enrollmenttest"
	"github.com/stepgate/stepgate/pdp/trust"
)

// clock is a test clock shared by the checker, the source and the server.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// counts records what the checker reported to its observer.
type counts struct {
	mu      sync.Mutex
	lookups map[string]int
	cache   map[string]int
}

func (o *counts) ObserveEnrollmentLookup(source, result string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lookups[source+"/"+result]++
}
func (o *counts) ObserveEnrollmentCache(source, result string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cache[source+"/"+result]++
}

type fixture struct {
	srv   *enrollmenttest.Server
	clk   *clock
	obs   *counts
	check *enrollment.Checker
}

func newFixture(t *testing.T, cfg enrollment.CheckerConfig) *fixture {
	t.Helper()
	clk := newClock()
	srv := enrollmenttest.New(t, clk.Now)
	src, err := enrollment.NewAuth0(enrollment.Auth0Config{BaseURL: srv.URL, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	obs := &counts{lookups: map[string]int{}, cache: map[string]int{}}
	cfg.Source, cfg.Now, cfg.Observer = src, clk.Now, obs
	c, err := enrollment.NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, clk: clk, obs: obs, check: c}
}

func (f *fixture) ask(t *testing.T, sub string) enrollment.Answer {
	t.Helper()
	return f.check.Check(t.Context(), enrollment.User{Issuer: f.srv.URL + "/", Subject: sub})
}

func TestAuth0Statuses(t *testing.T) {
	f := newFixture(t, enrollment.CheckerConfig{})
	guardian := enrollmenttest.Method{ID: "guardian|dev_1", Type: "guardian", Confirmed: true, CreatedAt: "2026-01-01T00:00:00.000Z",
		AuthenticationMethods: []enrollmenttest.SubMethod{{ID: "push|dev_1", Type: "push"}, {ID: "totp|dev_1", Type: "totp"}}}
	unconfirmed := enrollmenttest.Push("dev_9")
	unconfirmed.Confirmed = false
	f.srv.SetUser("auth0|phone", enrollmenttest.TOTP("dev_0"), enrollmenttest.Push("dev_1"))
	f.srv.SetUser("auth0|guardian", guardian)
	f.srv.SetUser("auth0|totp", enrollmenttest.TOTP("dev_2"))
	f.srv.SetUser("auth0|pending", unconfirmed)
	f.srv.SetUser("auth0|none")
	for _, tc := range []struct {
		sub    string
		want   enrollment.Status
		reason string
	}{
		{"auth0|phone", enrollment.Capable, "confirmed push authenticator push|dev_1"},
		{"auth0|guardian", enrollment.Capable, "confirmed guardian authenticator guardian|dev_1"},
		{"auth0|totp", enrollment.NotCapable, "no confirmed push authenticator among the user's 1"},
		{"auth0|pending", enrollment.NotCapable, "no confirmed push authenticator"},
		{"auth0|none", enrollment.NotCapable, "among the user's 0"},
		{"auth0|stranger", enrollment.Unknown, "does not know the user (HTTP 404)"},
	} {
		t.Run(tc.sub, func(t *testing.T) {
			a := f.ask(t, tc.sub)
			if a.Status != tc.want || !strings.Contains(a.Reason, tc.reason) || a.Source != "auth0" || a.Cached {
				t.Errorf("answer %+v, want %s with reason containing %q", a, tc.want, tc.reason)
			}
		})
	}
	if got := f.srv.LastUserPath(); got != "/api/v2/users/auth0%7Cstranger/authentication-methods" {
		t.Errorf("user path %q: the user id must be path-escaped", got)
	}
	if n := f.srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for six users, want 1 (the token is reused)", n)
	}
}

func TestAuth0PagesThroughMethods(t *testing.T) {
	f := newFixture(t, enrollment.CheckerConfig{})
	var many []enrollmenttest.Method
	for i := range 150 {
		many = append(many, enrollmenttest.TOTP(fmt.Sprint(i)))
	}
	f.srv.SetUser("auth0|late", append(many, enrollmenttest.Push("dev_late"))...)
	if a := f.ask(t, "auth0|late"); a.Status != enrollment.Capable {
		t.Errorf("push on the second page: %+v", a)
	}
	if n := f.srv.MethodRequests(); n != 2 {
		t.Errorf("%d method requests, want 2 pages", n)
	}
}

func TestAuth0TokenExpiryAndRevocation(t *testing.T) {
	f := newFixture(t, enrollment.CheckerConfig{TTL: time.Second})
	f.srv.SetUser("auth0|u", enrollmenttest.Push("d"))
	f.srv.SetTokenLifetime(10 * time.Minute)
	for range 3 {
		if a := f.ask(t, "auth0|u"); a.Status != enrollment.Capable {
			t.Fatalf("answer %+v", a)
		}
		f.clk.Advance(2 * time.Second) // past the answer's TTL, within the token's life
	}
	if n, m := f.srv.TokenRequests(), f.srv.MethodRequests(); n != 1 || m != 3 {
		t.Fatalf("%d token and %d method requests, want 1 token reused for 3 lookups", n, m)
	}
	// Shortly before expiry (within the renewal margin) a new token is
	// fetched, so the old one never reaches the API expired.
	f.clk.Advance(9*time.Minute + 30*time.Second)
	if a := f.ask(t, "auth0|u"); a.Status != enrollment.Capable {
		t.Fatalf("answer after renewal %+v", a)
	}
	if n := f.srv.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want a second one before expiry", n)
	}
	// A token the API refuses (401) is replaced once, and the lookup
	// succeeds with the new one.
	f.srv.RevokeTokens()
	f.clk.Advance(2 * time.Second)
	if a := f.ask(t, "auth0|u"); a.Status != enrollment.Capable {
		t.Fatalf("answer after 401 %+v", a)
	}
	if n := f.srv.TokenRequests(); n != 3 {
		t.Errorf("%d token requests, want one more after the 401", n)
	}
}

// A 401 gets exactly one new token; a second 401 is a failure, not a loop.
func TestAuth0RefreshesOnlyOnceOn401(t *testing.T) {
	f := newFixture(t, enrollment.CheckerConfig{})
	f.srv.SetUser("auth0|u", enrollmenttest.Push("d"))
	f.srv.RefuseTokens(true)
	a := f.ask(t, "auth0|u")
	if a.Status != enrollment.Unknown || !strings.Contains(a.Reason, "(with a new token): HTTP 401") {
		t.Fatalf("answer %+v", a)
	}
	if n, m := f.srv.TokenRequests(), f.srv.MethodRequests(); n != 2 || m != 2 {
		t.Errorf("%d token and %d method requests, want 2 and 2", n, m)
	}
}

func TestAuth0BadCredentialsAreUnknown(t *testing.T) {
	clk := newClock()
	srv := enrollmenttest.New(t, clk.Now)
	srv.SetUser("auth0|u", enrollmenttest.Push("d"))
	src, err := enrollment.NewAuth0(enrollment.Auth0Config{BaseURL: srv.URL, ClientID: srv.ClientID, ClientSecret: "wrong", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := enrollment.NewChecker(enrollment.CheckerConfig{Source: src, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	a := c.Check(t.Context(), enrollment.User{Subject: "auth0|u"})
	if a.Status != enrollment.Unknown || !strings.Contains(a.Reason, "HTTP 401 (access_denied)") {
		t.Errorf("answer %+v, want unknown naming the token endpoint's refusal", a)
	}
	if srv.MethodRequests() != 0 {
		t.Error("the API was called without a token")
	}
}

func TestCheckerCachesAnswersAndFailures(t *testing.T) {
	f := newFixture(t, enrollment.CheckerConfig{TTL: time.Minute, FailureTTL: 5 * time.Second})
	f.srv.SetUser("auth0|u", enrollmenttest.TOTP("d"))
	if a := f.ask(t, "auth0|u"); a.Status != enrollment.NotCapable || a.Cached {
		t.Fatalf("first %+v", a)
	}
	f.srv.SetUser("auth0|u", enrollmenttest.Push("d")) // enrolls now
	f.clk.Advance(59 * time.Second)
	if a := f.ask(t, "auth0|u"); a.Status != enrollment.NotCapable || !a.Cached {
		t.Fatalf("within the TTL %+v, want the cached answer", a)
	}
	f.clk.Advance(2 * time.Second)
	if a := f.ask(t, "auth0|u"); a.Status != enrollment.Capable || a.Cached {
		t.Fatalf("after the TTL %+v, want a new lookup", a)
	}
	if m := f.srv.MethodRequests(); m != 2 {
		t.Errorf("%d method requests, want 2", m)
	}

	f.srv.SetDown(true)
	f.clk.Advance(2 * time.Minute)
	a := f.ask(t, "auth0|u")
	if a.Status != enrollment.Unknown || !strings.Contains(a.Reason, "HTTP 503") {
		t.Fatalf("outage %+v, want unknown with the status", a)
	}
	f.clk.Advance(4 * time.Second)
	if a := f.ask(t, "auth0|u"); a.Status != enrollment.Unknown || !a.Cached {
		t.Fatalf("within the failure TTL %+v, want the cached failure", a)
	}
	if m := f.srv.MethodRequests(); m != 3 {
		t.Errorf("%d method requests, want no new one within the failure TTL", m)
	}
	f.srv.SetDown(false)
	f.clk.Advance(2 * time.Second)
	if a := f.ask(t, "auth0|u"); a.Status != enrollment.Capable {
		t.Fatalf("after recovery %+v", a)
	}
	f.obs.mu.Lock()
	defer f.obs.mu.Unlock()
	if f.obs.lookups["auth0/error"] != 1 || f.obs.lookups["auth0/capable"] != 2 || f.obs.lookups["auth0/not_capable"] != 1 ||
		f.obs.cache["auth0/hit"] != 2 || f.obs.cache["auth0/miss"] != 4 {
		t.Errorf("observed lookups %v cache %v", f.obs.lookups, f.obs.cache)
	}
}

func TestCheckerHonoursRetryAfter(t *testing.T) {
	f := newFixture(t, enrollment.CheckerConfig{FailureTTL: time.Second})
	f.srv.SetUser("auth0|a", enrollmenttest.Push("a"))
	f.srv.SetUser("auth0|b", enrollmenttest.Push("b"))
	f.srv.RateLimit(1, 30*time.Second)
	a := f.ask(t, "auth0|a")
	if a.Status != enrollment.Unknown || !strings.Contains(a.Reason, "rate limited (429), retry after 30s") {
		t.Fatalf("429 %+v", a)
	}
	calls := f.srv.TokenRequests() + f.srv.MethodRequests()
	f.clk.Advance(10 * time.Second)
	b := f.ask(t, "auth0|b") // another user: the pause is the source's, not the user's
	if b.Status != enrollment.Unknown || !strings.Contains(b.Reason, "paused by its rate limit until") {
		t.Fatalf("during the pause %+v", b)
	}
	if n := f.srv.TokenRequests() + f.srv.MethodRequests(); n != calls {
		t.Errorf("%d requests during the Retry-After pause", n-calls)
	}
	f.clk.Advance(21 * time.Second)
	if b := f.ask(t, "auth0|b"); b.Status != enrollment.Capable {
		t.Errorf("after Retry-After %+v", b)
	}
	f.obs.mu.Lock()
	defer f.obs.mu.Unlock()
	if f.obs.lookups["auth0/rate_limited"] != 1 || f.obs.cache["auth0/paused"] != 1 {
		t.Errorf("observed lookups %v cache %v", f.obs.lookups, f.obs.cache)
	}
}

func TestCheckerBoundsSlowLookups(t *testing.T) {
	f := newFixture(t, enrollment.CheckerConfig{Timeout: 100 * time.Millisecond})
	f.srv.SetUser("auth0|u", enrollmenttest.Push("d"))
	f.srv.SetDelay(3 * time.Second)
	start := time.Now()
	a := f.ask(t, "auth0|u")
	if el := time.Since(start); el > time.Second {
		t.Errorf("a slow Management API held the check %s, budget 100ms", el)
	}
	if a.Status != enrollment.Unknown {
		t.Errorf("slow lookup %+v, want unknown", a)
	}
}

func TestCheckerSharesConcurrentLookups(t *testing.T) {
	f := newFixture(t, enrollment.CheckerConfig{Timeout: 5 * time.Second})
	f.srv.SetUser("auth0|u", enrollmenttest.Push("d"))
	f.srv.SetDelay(200 * time.Millisecond)
	var wg sync.WaitGroup
	answers := make([]enrollment.Answer, 8)
	for i := range answers {
		wg.Go(func() { answers[i] = f.ask(t, "auth0|u") })
	}
	wg.Wait()
	for i, a := range answers {
		if a.Status != enrollment.Capable {
			t.Errorf("caller %d: %+v", i, a)
		}
	}
	if n, m := f.srv.TokenRequests(), f.srv.MethodRequests(); n != 1 || m != 1 {
		t.Errorf("%d token and %d method requests for 8 concurrent checks, want 1 and 1", n, m)
	}
}

func TestHTTPSource(t *testing.T) {
	var rateLimit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer lookup-key" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if rateLimit.Load() {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		switch r.URL.Query().Get("user") {
		case "alice@example":
			fmt.Fprint(w, `{"push": true}`)
		case "bob":
			fmt.Fprint(w, `{"push": false}`)
		case "carol":
			fmt.Fprint(w, `{"enrolled": true}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	clk := newClock()
	src, err := enrollment.NewHTTP(enrollment.HTTPConfig{URL: srv.URL + "/enrolled?user={sub}&iss={iss}",
		Headers: map[string]string{"Authorization": "Bearer lookup-key"}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := enrollment.NewChecker(enrollment.CheckerConfig{Source: src, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sub    string
		want   enrollment.Status
		reason string
	}{
		{"alice@example", enrollment.Capable, "push device enrolled"},
		{"bob", enrollment.NotCapable, "no push device enrolled"},
		{"carol", enrollment.Unknown, `no boolean "push"`},
		{"dave", enrollment.Unknown, "HTTP 404"},
	} {
		a := c.Check(t.Context(), enrollment.User{Issuer: "https://idp.example/", Subject: tc.sub})
		if a.Status != tc.want || !strings.Contains(a.Reason, tc.reason) || a.Source != "http" {
			t.Errorf("%s: %+v, want %s with %q", tc.sub, a, tc.want, tc.reason)
		}
	}
	rateLimit.Store(true)
	clk.Advance(time.Hour)
	if a := c.Check(t.Context(), enrollment.User{Subject: "erin"}); a.Status != enrollment.Unknown || !strings.Contains(a.Reason, "retry after 7s") {
		t.Errorf("429: %+v", a)
	}
}

func TestSourceForConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ic      trust.IssuerConfig
		kind    string
		wantErr string
	}{
		{"auth0 default", trust.IssuerConfig{Issuer: "https://t.eu.auth0.com/", Dialect: trust.DialectAuth0,
			CIBA: &trust.CIBAConfig{ClientID: "c", ClientSecret: "s", Enrollment: &trust.EnrollmentConfig{}}}, "auth0", ""},
		{"generic needs a mode", trust.IssuerConfig{Issuer: "https://kc/", Dialect: trust.DialectKeycloak,
			CIBA: &trust.CIBAConfig{Enrollment: &trust.EnrollmentConfig{}}}, "", "mode is required"},
		{"http", trust.IssuerConfig{Issuer: "https://kc/", CIBA: &trust.CIBAConfig{Enrollment: &trust.EnrollmentConfig{
			Mode: "http", URL: "https://lookup/{sub}"}}}, "http", ""},
		{"http without sub", trust.IssuerConfig{Issuer: "https://kc/", CIBA: &trust.CIBAConfig{Enrollment: &trust.EnrollmentConfig{
			Mode: "http", URL: "https://lookup/all"}}}, "", "must contain {sub}"},
		{"assume", trust.IssuerConfig{Issuer: "https://kc/", CIBA: &trust.CIBAConfig{Enrollment: &trust.EnrollmentConfig{
			Mode: "assume_enrolled"}}}, "assume_enrolled", ""},
		{"unknown mode", trust.IssuerConfig{Issuer: "https://kc/", CIBA: &trust.CIBAConfig{Enrollment: &trust.EnrollmentConfig{
			Mode: "sms"}}}, "", `unknown mode "sms"`},
		{"auth0 without credentials", trust.IssuerConfig{Issuer: "https://t/", Dialect: trust.DialectAuth0,
			CIBA: &trust.CIBAConfig{Enrollment: &trust.EnrollmentConfig{}}}, "", "client id and secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := enrollment.SourceFor(tc.ic, enrollment.Options{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || src.Name() != tc.kind {
				t.Fatalf("source %v, %v; want %s", src, err, tc.kind)
			}
		})
	}
}

func TestIssuersChecksOnlyConfiguredIssuers(t *testing.T) {
	set, err := enrollment.NewIssuers([]trust.IssuerConfig{
		{Issuer: "https://a/", CIBA: &trust.CIBAConfig{Enrollment: &trust.EnrollmentConfig{Mode: "assume_enrolled"}}},
		{Issuer: "https://b/", CIBA: &trust.CIBAConfig{}},
	}, enrollment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := set.Check(context.Background(), "https://a/", "u"); !ok || a.Status != enrollment.Capable {
		t.Errorf("a: %+v %v", a, ok)
	}
	if a, ok := set.Check(context.Background(), "https://a/", ""); !ok || a.Status != enrollment.Unknown {
		t.Errorf("a without sub: %+v %v", a, ok)
	}
	if _, ok := set.Check(context.Background(), "https://b/", "u"); ok {
		t.Error("b has no enrollment lookup")
	}
	var none *enrollment.Issuers
	if _, ok := none.Check(context.Background(), "https://a/", "u"); ok || none.Configured() {
		t.Error("nil Issuers checks nothing")
	}
}
