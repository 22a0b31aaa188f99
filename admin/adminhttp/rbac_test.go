package adminhttp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// writes are every state-changing request and admin-only page.
var writes = []struct{ method, path string }{
	{"GET", "/policies/1/edit"},
	{"POST", "/policies/1/edit"},
	{"GET", "/policies/1/activate"},
	{"POST", "/policies/1/activate"},
	{"GET", "/policies/rollback"},
	{"POST", "/policies/rollback"},
	{"GET", "/clients/new"},
	{"POST", "/clients"},
	{"POST", "/clients/billing-svc"},
	{"POST", "/clients/billing-svc/rotate"},
	{"POST", "/clients/billing-svc/revoke"},
	{"POST", "/api/policies/1/validate"},
}

func TestAuditorCannotWrite(t *testing.T) {
	e := newEnv(t)
	b := e.auditor()
	for _, w := range writes {
		t.Run(w.method+" "+w.path, func(t *testing.T) {
			var r response
			if w.method == "GET" {
				r = b.get(w.path)
			} else {
				r = b.post(w.path, url.Values{"reason": {"x"}, "confirm": {"yes"}, "id": {"x"}})
			}
			if r.Code != http.StatusForbidden {
				t.Fatalf("%s %s as auditor: %d, want 403", w.method, w.path, r.Code)
			}
			mustContain(t, r, "auditor")
		})
	}
}

func TestAuditorCanRead(t *testing.T) {
	e := newEnv(t)
	b := e.auditor()
	for _, p := range []string{"/", "/policies", "/policies/1", "/audit", "/audit/admin", "/clients", "/policies/1/impact", "/policies/1/playground"} {
		if r := b.get(p); r.Code != http.StatusOK {
			t.Fatalf("GET %s as auditor: %d", p, r.Code)
		}
	}
	if r := b.post("/policies/1/test", nil); r.Code != http.StatusOK {
		t.Fatalf("auditor running tests: %d", r.Code)
	}
	r := b.get("/policies/1")
	if strings.Contains(r.Body, `href="/policies/1/edit"`) || strings.Contains(r.Body, `/activate"`) || strings.Contains(r.Body, "/policies/rollback") {
		t.Fatal("auditor is offered write actions")
	}
}

func TestCSRFRejected(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	tests := []struct {
		name string
		do   func() response
	}{
		{"form without token", func() response { return b.post("/policies/1/test", url.Values{"_csrf": {""}}) }},
		{"form with wrong token", func() response { return b.post("/logout", url.Values{"_csrf": {"wrong"}}) }},
		{"JSON without header", func() response {
			return b.do("POST", "/api/policies/1/playground", strings.NewReader(`{}`), map[string]string{"Content-Type": "application/json"})
		}},
		{"JSON with token only in body", func() response {
			return b.do("POST", "/api/policies/1/validate", strings.NewReader(`{"_csrf":"`+b.csrf+`"}`), map[string]string{"Content-Type": "application/json"})
		}},
		{"foreign origin with right token", func() response {
			return b.do("POST", "/policies/1/test", strings.NewReader("_csrf="+b.csrf),
				map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.do(); r.Code != http.StatusForbidden {
				t.Fatalf("status %d, want 403", r.Code)
			}
		})
	}
	r := b.do("POST", "/api/policies/1/playground", strings.NewReader(`{"action":{"name":"billing.view"}}`),
		map[string]string{"Content-Type": "application/json", "X-CSRF-Token": b.csrf})
	if r.Code != http.StatusOK || !strings.Contains(r.Body, `"decision":"step_up"`) {
		t.Fatalf("JSON with header: %d %s", r.Code, r.Body)
	}
}
