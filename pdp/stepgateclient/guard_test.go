package stepgateclient_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

// fakeStepgate answers every decision with outcome.
func fakeStepgate(t testing.TB, outcome string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sgk_test" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		d := map[string]any{"decision_id": "d1", "decision": outcome, "reasons": []string{}}
		if outcome == stepgateclient.StepUp {
			d["step_up"] = map[string]any{"authorize_url": "https://idp.example/authorize?state=s1", "transaction_id": "tx1",
				"state": "s1", "code_verifier": "cv", "expires_at": time.Now().Add(time.Minute),
				"www_authenticate": `Bearer error="insufficient_user_authentication", max_age="900"`}
		}
		_ = json.NewEncoder(w).Encode(d)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGuardRequire(t *testing.T) {
	tests := []struct {
		name       string
		outcome    string
		accept     string
		wantStatus int
		wantHeader [2]string
	}{
		{"allow runs the handler", stepgateclient.Allow, "", http.StatusTeapot, [2]string{}},
		{"deny is 403", stepgateclient.Deny, "", http.StatusForbidden, [2]string{}},
		{"step_up redirects a browser", stepgateclient.StepUp, "text/html", http.StatusSeeOther, [2]string{"Location", "https://idp.example/authorize?state=s1"}},
		{"step_up challenges an API call", stepgateclient.StepUp, "application/json", http.StatusUnauthorized,
			[2]string{"WWW-Authenticate", `Bearer error="insufficient_user_authentication", max_age="900"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeStepgate(t, tc.outcome)
			g := &stepgateclient.Guard{Client: &stepgateclient.Client{BaseURL: srv.URL, Key: "sgk_test"},
				Token: func(*http.Request) string { return "user-token" },
				Store: stepgateclient.CookieStore{Key: []byte(strings.Repeat("k", 32))}}
			h := g.Require("billing.view", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, ok := stepgateclient.DecisionFrom(r.Context()); !ok {
					t.Error("no decision in the context")
				}
				w.WriteHeader(http.StatusTeapot)
			}))
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/billing", nil)
			req.Header.Set("Accept", tc.accept)
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if tc.wantHeader[0] != "" && rec.Header().Get(tc.wantHeader[0]) != tc.wantHeader[1] {
				t.Fatalf("%s = %q, want %q", tc.wantHeader[0], rec.Header().Get(tc.wantHeader[0]), tc.wantHeader[1])
			}
			if tc.wantStatus == http.StatusSeeOther {
				c := rec.Result().Cookies()
				if len(c) != 1 || c[0].SameSite != http.SameSiteLaxMode || !c[0].HttpOnly {
					t.Fatalf("pending step-up cookie %+v, want one HttpOnly SameSite=Lax cookie", c)
				}
			}
		})
	}
}
