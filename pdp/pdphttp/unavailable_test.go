package pdphttp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// wantUnavailable checks a retryable 503: temporarily_unavailable in the
// JSON body and a Retry-After in seconds.
func wantUnavailable(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", r.status, r.body)
	}
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2", got)
	}
	if m := r.json(t); m["error"] != "temporarily_unavailable" || m["error_description"] == "" {
		t.Errorf("body %s, want a temporarily_unavailable error with a description", r.body)
	}
}

// TestClientLookupDuringOutage: a client key that cannot be looked up
// because the store is down is neither accepted nor refused as unknown: the
// answer is a retryable 503, and once the store is back the same key works
// (the failure was not cached).
func TestClientLookupDuringOutage(t *testing.T) {
	h := newHarness(t)
	body := `{"claims":{"sub":"u"},"action":"billing.view"}`
	h.store.down.Store(true)
	for _, path := range []string{"/v1/decision", "/access/v1/evaluation"} {
		r := h.post(path, keyTrusted, body)
		if path == "/access/v1/evaluation" && r.status == http.StatusNotFound {
			continue // AuthZEN is registered by cmd/stepgate, not the bare router
		}
		wantUnavailable(t, r)
		if strings.Contains(string(r.body), "5432") {
			t.Errorf("the store's error reached the client: %s", r.body)
		}
	}
	if len(h.audit.Events()) != 0 {
		t.Error("a request that was not authenticated was audited")
	}
	h.store.down.Store(false)
	if d := h.decide(keyTrusted, map[string]any{"claims": map[string]any{"sub": "u"}, "action": "billing.view"}); d["decision"] == nil {
		t.Fatalf("after the outage: %v", d)
	}
}

// TestStepUpVerifyDuringOutage: a step-up transaction the store cannot
// read is not a refusal of the proof but a retryable 503.
func TestStepUpVerifyDuringOutage(t *testing.T) {
	h := newHarness(t)
	txID, nonce := startStepUp(t, h, keyService)
	h.store.down.Store(true)
	// The client key is cached from the decision; the transaction read fails.
	r := h.post("/v1/stepup/verify", keyService, map[string]any{"transaction_id": txID,
		"id_token": idToken(h, map[string]any{"nonce": nonce})})
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "2" {
		t.Fatalf("verify during the outage: %d Retry-After %q, want 503 with Retry-After: %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if m := r.json(t); m["error"] != "temporarily_unavailable" || m["verified"] != false {
		t.Fatalf("verify during the outage: %s", r.body)
	}
	h.store.down.Store(false)
	h.clock.Advance(time.Second)
	r = h.post("/v1/stepup/verify", keyService, map[string]any{"transaction_id": txID,
		"id_token": idToken(h, map[string]any{"nonce": nonce})})
	if r.status != http.StatusOK {
		t.Fatalf("verify after the outage: %d %s", r.status, r.body)
	}
}
