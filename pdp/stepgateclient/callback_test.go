package stepgateclient_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

// stepUpWorld is a fake stepgate and IdP token endpoint behind a real
// Guard: every decision is a step_up with a new state; the code the test
// sends to the callback says how the token endpoint and verify answer
// ("ok.N", "refuse.N", "expired.N", "down.N", "badcode.N", N the step-up).
type stepUpWorld struct {
	guard  *stepgateclient.Guard
	app    *httptest.Server
	logs   *bytes.Buffer
	mu     sync.Mutex
	n      int
	states []string
}

func newStepUpWorld(t *testing.T, echoRoutes bool) *stepUpWorld {
	t.Helper()
	w := &stepUpWorld{logs: &bytes.Buffer{}}
	sg := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/decision":
			w.mu.Lock()
			w.n++
			n := w.n
			w.states = append(w.states, fmt.Sprintf("st-%d", n))
			w.mu.Unlock()
			_ = json.NewEncoder(rw).Encode(map[string]any{"decision_id": fmt.Sprintf("d%d", n), "decision": "step_up",
				"step_up": map[string]any{"authorize_url": fmt.Sprintf("https://idp.test/authorize?state=st-%d", n),
					"transaction_id": fmt.Sprintf("tx%d", n), "state": fmt.Sprintf("st-%d", n), "code_verifier": fmt.Sprintf("cv%d", n),
					"expires_at": time.Now().Add(5 * time.Minute)}})
		case "/v1/stepup/verify":
			var body map[string]string
			_ = json.NewDecoder(r.Body).Decode(&body)
			outcome, n, _ := strings.Cut(strings.TrimPrefix(body["id_token"], "idt-"), ".")
			if body["transaction_id"] != "tx"+n || body["session_id"] != "sess-1" {
				rw.WriteHeader(http.StatusBadRequest)
				_, _ = fmt.Fprintf(rw, `{"error":"invalid_request","error_description":"wrong transaction %q"}`, body["transaction_id"])
				return
			}
			switch outcome {
			case "refuse":
				rw.WriteHeader(http.StatusForbidden)
				_, _ = rw.Write([]byte(`{"verified":false,"error":"insufficient_authentication","error_description":"acr urn:x not in [mfa]"}`))
			case "expired":
				rw.WriteHeader(http.StatusGone)
				_, _ = rw.Write([]byte(`{"verified":false,"error":"transaction_expired","error_description":"expired"}`))
			case "down":
				rw.WriteHeader(http.StatusServiceUnavailable)
				_, _ = rw.Write([]byte(`{"verified":false,"error":"temporarily_unavailable"}`))
			default:
				_, _ = rw.Write([]byte(`{"verified":true,"decision_id":"v` + n + `"}`))
			}
		}
	}))
	t.Cleanup(sg.Close)
	idp := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		code := r.PostForm.Get("code")
		_, n, _ := strings.Cut(code, ".")
		rw.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(code, "badcode.") || r.PostForm.Get("code_verifier") != "cv"+n {
			rw.WriteHeader(http.StatusBadRequest)
			_, _ = rw.Write([]byte(`{"error":"invalid_grant","error_description":"code or verifier wrong"}`))
			return
		}
		_ = json.NewEncoder(rw).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": "idt-" + code})
	}))
	t.Cleanup(idp.Close)
	w.guard = &stepgateclient.Guard{
		Client:  &stepgateclient.Client{BaseURL: sg.URL, Key: "sgk_test"},
		Token:   func(*http.Request) string { return "user-token" },
		Session: func(*http.Request) string { return "sess-1" },
		Store:   stepgateclient.CookieStore{Key: testKey},
		OAuth: oauth2.Config{ClientID: "app", RedirectURL: "http://app/callback",
			Endpoint: oauth2.Endpoint{TokenURL: idp.URL, AuthStyle: oauth2.AuthStyleInParams}},
		Logger: slog.New(slog.NewTextHandler(w.logs, nil)),
		Layout: func(rw http.ResponseWriter, _ *http.Request, p stepgateclient.ErrorPage) {
			rw.WriteHeader(p.Status)
			_ = template.Must(template.New("").Parse(`<app-layout><h1>{{.Title}}</h1>{{.Body}}</app-layout>`)).Execute(rw, p)
		},
	}
	billing := http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { _, _ = rw.Write([]byte("invoices")) })
	if echoRoutes {
		e := echo.New()
		e.GET("/billing", echo.WrapHandler(billing), w.guard.Echo("billing.view"))
		e.GET("/callback", w.guard.EchoCallback())
		w.app = httptest.NewServer(e)
	} else {
		mux := http.NewServeMux()
		mux.Handle("GET /billing", w.guard.Require("billing.view", billing))
		mux.Handle("GET /callback", w.guard.Callback())
		w.app = httptest.NewServer(mux)
	}
	t.Cleanup(w.app.Close)
	return w
}

// browser is one cookie jar that stops at every redirect.
func (w *stepUpWorld) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// visit returns the status, Location and body of one request.
func visit(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), b.String()
}

// startStepUp opens page in the browser and returns the state of the
// step-up it started.
func (w *stepUpWorld) startStepUp(t *testing.T, c *http.Client, page string) string {
	t.Helper()
	code, loc, _ := visit(t, c, w.app.URL+page)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "https://idp.test/authorize") {
		t.Fatalf("%s: %d → %s, want the step-up redirect", page, code, loc)
	}
	u, _ := url.Parse(loc)
	return u.Query().Get("state")
}

func (w *stepUpWorld) callback(t *testing.T, c *http.Client, q url.Values) (int, string, string) {
	t.Helper()
	return visit(t, c, w.app.URL+"/callback?"+q.Encode())
}

func TestCallbackTwoTabsEitherOrder(t *testing.T) {
	for _, viaEcho := range []bool{false, true} {
		for _, order := range [][2]int{{0, 1}, {1, 0}} {
			t.Run(fmt.Sprintf("echo=%v/order=%v", viaEcho, order), func(t *testing.T) {
				w := newStepUpWorld(t, viaEcho)
				c := w.browser(t)
				states := []string{w.startStepUp(t, c, "/billing?tab=A"), w.startStepUp(t, c, "/billing?tab=B")}
				pages := []string{"/billing?tab=A", "/billing?tab=B"}
				for _, i := range order {
					n := strings.TrimPrefix(states[i], "st-")
					code, loc, body := w.callback(t, c, url.Values{"state": {states[i]}, "code": {"ok." + n}})
					if code != http.StatusSeeOther || loc != pages[i] {
						t.Fatalf("tab %d callback: %d → %q (%s), want 303 → %s", i, code, loc, body, pages[i])
					}
				}
			})
		}
	}
}

func TestCallbackErrors(t *testing.T) {
	tests := []struct {
		name string
		// query builds the callback's query from the step-up's state and number.
		query      func(state, n string) url.Values
		replay     bool
		wantKind   error
		wantCode   string
		wantStatus int
		wantText   string
		wantTry    string
		wantRef    bool
	}{
		{"cancelled at the provider", func(s, _ string) url.Values {
			return url.Values{"state": {s}, "error": {"access_denied"}, "error_description": {"End-User aborted interaction"}}
		}, false, stepgateclient.ErrCancelled, "access_denied", http.StatusForbidden, "You cancelled", "/billing?tab=1", true},
		{"another provider error", func(s, _ string) url.Values { return url.Values{"state": {s}, "error": {"login_required"}} },
			false, stepgateclient.ErrProvider, "login_required", http.StatusBadGateway, "identity provider", "/billing?tab=1", true},
		{"tampered state", func(s, n string) url.Values { return url.Values{"state": {s + "x"}, "code": {"ok." + n}} },
			false, stepgateclient.ErrUnknownState, "", http.StatusBadRequest, "does not match", "/", false},
		{"no state", func(_, n string) url.Values { return url.Values{"code": {"ok." + n}} },
			false, stepgateclient.ErrUnknownState, "", http.StatusBadRequest, "does not match", "/", false},
		{"replayed callback", func(s, n string) url.Values { return url.Values{"state": {s}, "code": {"ok." + n}} },
			true, stepgateclient.ErrReplayed, "", http.StatusConflict, "already used", "/billing?tab=1", true},
		{"stepgate refuses", func(s, n string) url.Values { return url.Values{"state": {s}, "code": {"refuse." + n}} },
			false, stepgateclient.ErrRefused, "insufficient_authentication", http.StatusForbidden, "one-time code", "/billing?tab=1", true},
		{"transaction expired at stepgate", func(s, n string) url.Values { return url.Values{"state": {s}, "code": {"expired." + n}} },
			false, stepgateclient.ErrExpired, "transaction_expired", http.StatusGone, "expired", "/billing?tab=1", true},
		{"stepgate unavailable", func(s, n string) url.Values { return url.Values{"state": {s}, "code": {"down." + n}} },
			false, stepgateclient.ErrUnavailable, "temporarily_unavailable", http.StatusServiceUnavailable, "right now", "/billing?tab=1", true},
		{"token endpoint refuses the code", func(s, n string) url.Values { return url.Values{"state": {s}, "code": {"badcode." + n}} },
			false, stepgateclient.ErrProvider, "invalid_grant", http.StatusBadGateway, "identity provider", "/billing?tab=1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newStepUpWorld(t, false)
			var got *stepgateclient.CallbackError
			w.guard.Layout = nil
			w.guard.ErrorHandler = func(rw http.ResponseWriter, r *http.Request, e *stepgateclient.CallbackError) {
				got = e
				p, err := stepgateclient.NewErrorPage(e, "/")
				if err != nil {
					t.Fatal(err)
				}
				rw.WriteHeader(p.Status)
				_, _ = fmt.Fprintf(rw, "<h1>%s</h1>%s", p.Title, p.Body)
			}
			c := w.browser(t)
			state := w.startStepUp(t, c, "/billing?tab=1")
			other := w.startStepUp(t, c, "/billing?tab=2") // must survive whatever happens to the first
			q := tc.query(state, "1")
			if tc.replay {
				if code, _, body := w.callback(t, c, q); code != http.StatusSeeOther {
					t.Fatalf("first callback: %d %s", code, body)
				}
			}
			code, _, body := w.callback(t, c, q)
			if code != tc.wantStatus || got == nil || !errors.Is(got, tc.wantKind) || got.Code != tc.wantCode {
				t.Fatalf("callback: HTTP %d, error %v; want %d, kind %v, code %q", code, got, tc.wantStatus, tc.wantKind, tc.wantCode)
			}
			if !strings.Contains(body, tc.wantText) || !strings.Contains(body, `class="stepgate-try-again" href="`+template.HTMLEscapeString(tc.wantTry)+`"`) {
				t.Fatalf("error page lacks %q or Try again → %s:\n%s", tc.wantText, tc.wantTry, body)
			}
			if strings.Contains(body, "acr urn:x") || strings.Contains(body, "verifier wrong") {
				t.Fatalf("the page shows engine wording:\n%s", body)
			}
			if tc.wantRef != strings.Contains(body, "Reference: decision <code>d1</code>") {
				t.Fatalf("reference to decision d1 shown = %v, want %v:\n%s", !tc.wantRef, tc.wantRef, body)
			}
			if tc.wantRef && !strings.Contains(w.logs.String(), "decision_id=d1") {
				t.Fatalf("the failure was not logged with its decision id:\n%s", w.logs)
			}
			// The other tab's step-up is untouched.
			if code, loc, body := w.callback(t, c, url.Values{"state": {other}, "code": {"ok.2"}}); code != http.StatusSeeOther || loc != "/billing?tab=2" {
				t.Fatalf("the other tab after %s: %d → %q %s", tc.name, code, loc, body)
			}
		})
	}
}

func TestCallbackDefaultPageInLayout(t *testing.T) {
	w := newStepUpWorld(t, false)
	c := w.browser(t)
	state := w.startStepUp(t, c, "/billing")
	code, _, body := w.callback(t, c, url.Values{"state": {state}, "error": {"access_denied"}})
	if code != http.StatusForbidden || !strings.HasPrefix(body, "<app-layout><h1>Sign-in cancelled</h1>") ||
		!strings.Contains(body, `data-kind="cancelled"`) || !strings.Contains(body, `href="/billing"`) {
		t.Fatalf("cancelled page in the layout: %d\n%s", code, body)
	}
	w.guard.Layout = nil
	code, _, body = w.callback(t, c, url.Values{"state": {"forged"}, "code": {"x"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "<!doctype html>") || !strings.Contains(body, "<h1>The sign-in could not be matched</h1>") {
		t.Fatalf("standalone page: %d\n%s", code, body)
	}
}

// TestRequireSendsDeepLinkToSignIn: a signed-out browser goes to the
// sign-in with the page it asked for.
func TestRequireSendsDeepLinkToSignIn(t *testing.T) {
	g := &stepgateclient.Guard{Token: func(*http.Request) string { return "" }, SignIn: "/login"}
	h := g.Require("billing.view", http.NotFoundHandler())
	tests := []struct{ method, target, want string }{
		{http.MethodGet, "/billing?month=3", "/login?return_to=%2Fbilling%3Fmonth%3D3"},
		{http.MethodGet, "/", "/login"},
		{http.MethodPost, "/billing", "/login"},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != tc.want {
			t.Errorf("%s %s: %d → %q, want 303 → %q", tc.method, tc.target, rec.Code, rec.Header().Get("Location"), tc.want)
		}
	}
}
