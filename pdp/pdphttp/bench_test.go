package pdphttp_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDecisionHTTP measures one POST /v1/decision through the router
// (middleware, body reading, decoding, the decision with a warm decision
// cache, response encoding) without the network, so the HTTP layer's own
// cost and allocations are visible.
func BenchmarkDecisionHTTP(b *testing.B) {
	h := newHarness(b)
	handler := h.srv.Config.Handler
	body := []byte(`{"claims":{"sub":"auth0|alice","iss":"https://idp.example","amr":["pwd","otp"],"acr":"mfa",` +
		`"auth_time":1763769900,"email":"alice@example.com"},"action":"billing.view",` +
		`"resource":{"type":"invoice","id":"inv-42","properties":{"amount":120}},"context":{"ip":"203.0.113.9"}}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/decision", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+keyTrusted)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
