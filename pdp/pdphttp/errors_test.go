package pdphttp_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestBadRequests(t *testing.T) {
	h := newHarness(t)
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	// Array elements count as members too, which keeps this under 64 KiB.
	many := `{"claims":{"sub":"u"},"action":"billing.view","context":{"ids":[` + strings.Repeat("1,", 10000) + `1]}}`
	tests := []struct {
		name   string
		key    string
		body   string
		ctype  string
		status int
		code   string
		desc   string // substring of error_description
	}{
		{"malformed JSON", keyTrusted, `{"claims":`, "", 400, "invalid_request", "unexpected end"},
		{"not an object", keyTrusted, `[1,2]`, "", 400, "invalid_request", "JSON object"},
		{"empty body", keyTrusted, ``, "", 400, "invalid_request", "empty"},
		{"trailing data", keyTrusted, `{"claims":{"sub":"u"},"action":"billing.view"} {}`, "", 400, "invalid_request", "after the JSON value"},
		{"unknown field", keyTrusted, `{"claims":{"sub":"u"},"acton":"billing.view"}`, "", 400, "invalid_request", "unknown field acton"},
		{"caller supplies now", keyTrusted, `{"claims":{"sub":"u"},"action":"billing.view","now":1}`, "", 400, "invalid_request", "unknown field now"},
		{"duplicate field", keyTrusted, `{"claims":{"sub":"u"},"action":"billing.view","action":"x"}`, "", 400, "invalid_request", `duplicate key "action"`},
		{"both token and claims", keyTrusted, `{"token":"a.b.c","claims":{"sub":"u"},"action":"billing.view"}`, "", 400, "invalid_request", "not both"},
		{"neither token nor claims", keyTrusted, `{"action":"billing.view"}`, "", 400, "invalid_request", "exactly one of token and claims"},
		{"missing action", keyTrusted, `{"claims":{"sub":"u"}}`, "", 400, "invalid_request", "action is required"},
		{"bad action syntax", keyTrusted, `{"claims":{"sub":"u"},"action":"-billing view"}`, "", 400, "invalid_request", "must match"},
		{"action too long", keyTrusted, `{"claims":{"sub":"u"},"action":"` + strings.Repeat("a", 129) + `"}`, "", 400, "invalid_request", "must match"},
		{"wrong type", keyTrusted, `{"claims":{"sub":"u"},"action":42}`, "", 400, "invalid_request", "action must be a string"},
		{"claims without sub", keyTrusted, `{"claims":{"amr":["mfa"]},"action":"billing.view"}`, "", 400, "invalid_request", "claims.sub"},
		{"resource wrong type", keyTrusted, `{"claims":{"sub":"u"},"action":"billing.view","resource":{"id":7}}`, "", 400, "invalid_request", "resource.id must be a string"},
		{"nesting deeper than 32", keyTrusted, `{"claims":{"sub":"u"},"action":"billing.view","context":` + deep + `}`, "", 400, "invalid_request", "deeper than 32"},
		{"too many keys", keyTrusted, many, "", 400, "invalid_request", "more than 10000"},
		{"return_to outside allowlist", keyTrusted, `{"claims":{"sub":"u"},"action":"billing.view","return_to":"https://app.example.evil/"}`, "", 400, "invalid_request", "allowlist"},
		{"claims from a client that may not assert", keyService, `{"claims":{"sub":"u"},"action":"billing.view"}`, "", 403, "access_denied", "may not assert claims"},
		{"no client key", "", `{"claims":{"sub":"u"},"action":"billing.view"}`, "", 401, "invalid_client", ""},
		{"bad client key", "sgk_nope", `{"claims":{"sub":"u"},"action":"billing.view"}`, "", 401, "invalid_client", ""},
		{"not JSON content type", keyTrusted, `{"claims":{"sub":"u"},"action":"billing.view"}`, "text/plain", 415, "invalid_request", "application/json"},
		{"body over 64 KiB", keyTrusted, `{"claims":{"sub":"u"},"action":"billing.view","context":{"x":"` + strings.Repeat("a", 70<<10) + `"}}`, "", 413, "request_too_large", ""},
		{"empty batch", keyTrusted, `{"requests":[]}`, "", 400, "invalid_request", "must not be empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v1/decision"
			if strings.HasPrefix(tc.body, `{"requests"`) {
				path = "/v1/decisions"
			}
			hdr := []string{}
			if tc.ctype != "" {
				hdr = []string{"Content-Type", tc.ctype}
			}
			before := len(h.audit.Events())
			r := h.post(path, tc.key, tc.body, hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			m := r.json(t)
			if m["error"] != tc.code {
				t.Errorf("error = %v, want %s", m["error"], tc.code)
			}
			if d, _ := m["error_description"].(string); !strings.Contains(d, tc.desc) {
				t.Errorf("error_description %q lacks %q", d, tc.desc)
			}
			if r.header.Get("X-Request-ID") == "" {
				t.Error("no X-Request-ID on an error response")
			}
			if tc.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Error("401 without a Bearer challenge")
			}
			if after := len(h.audit.Events()); after != before {
				t.Errorf("a rejected request was audited as a decision (%d → %d)", before, after)
			}
		})
	}
}

func TestBatchLimit(t *testing.T) {
	h := newHarness(t, withMaxBody(1<<20))
	items := make([]any, 101)
	for i := range items {
		items[i] = map[string]any{"claims": map[string]any{"sub": "u"}, "action": "billing.view"}
	}
	r := h.post("/v1/decisions", keyTrusted, map[string]any{"requests": items})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "at most 100") {
		t.Fatalf("101 requests: %d %s", r.status, r.body)
	}
	items[100] = nil
	items = items[:100]
	items[57] = map[string]any{"claims": map[string]any{"sub": "u"}, "action": "bad action"}
	r = h.post("/v1/decisions", keyTrusted, map[string]any{"requests": items})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"error_description":"requests[57]: action`) {
		t.Fatalf("bad item: %d %s", r.status, r.body)
	}
	if n := len(h.audit.Events()); n != 0 {
		t.Errorf("a rejected batch recorded %d decisions", n)
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	body := `{"claims":{"sub":"u"},"action":"billing.view"}`
	r := h.post("/v1/decision", keyTrusted, body, "X-Request-ID", "req-123")
	if got := r.header.Get("X-Request-ID"); got != "req-123" {
		t.Errorf("X-Request-ID = %q, want the caller's", got)
	}
	ev := h.audit.Events()
	if len(ev) != 1 || ev[0].RequestID != "req-123" {
		t.Errorf("audited request id = %+v", ev)
	}
	r = h.post("/v1/decision", keyTrusted, body, "X-Request-ID", "bad id with spaces")
	if got := r.header.Get("X-Request-ID"); got == "" || strings.Contains(got, " ") {
		t.Errorf("X-Request-ID = %q, want a generated one", got)
	}
	resp, err := h.srv.Client().Get(h.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("healthz: %d, X-Request-ID %q", resp.StatusCode, resp.Header.Get("X-Request-ID"))
	}
}
