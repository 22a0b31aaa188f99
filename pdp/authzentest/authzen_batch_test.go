package authzentest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stepgate/stepgate/pdp/pdphttp"
)

// TestAuthZENEvaluationsSemantics checks defaults, whole-entity replacement,
// in-place item errors and where each semantic stops, byte for byte.
func TestAuthZENEvaluationsSemantics(t *testing.T) {
	srv := startAuthZEN(t, bundleRevision(t, "certification"), serverOptions{})
	// Items in order: bob write (deny), alice read (allow), invalid, alice write (allow).
	items := `[{"subject":{"type":"user","id":"bob"}},{"action":{"name":"read"}},{"resource":{"type":"record"}},{}]`
	body := func(semantic string) string {
		opts := ""
		if semantic != "" {
			opts = `"options":{"evaluations_semantic":"` + semantic + `"},`
		}
		return `{` + opts + `"subject":{"type":"user","id":"alice"},"action":{"name":"write"},"resource":{"type":"record","id":"record-1"},"evaluations":` + items + `}`
	}
	const invalid = `{"decision":false,"context":{"error":{"status":400,"message":"evaluations[2].resource.id is required"}}}`
	tests := []struct {
		name      string
		body      string
		want      string
		evaluated int // decisions recorded in the audit trail
	}{
		{name: "default is execute_all", body: body(""), want: `[{"decision":false},{"decision":true},` + invalid + `,{"decision":true}]`, evaluated: 3},
		{name: "execute_all", body: body("execute_all"), want: `[{"decision":false},{"decision":true},` + invalid + `,{"decision":true}]`, evaluated: 3},
		{name: "deny_on_first_deny stops at the first item", body: body("deny_on_first_deny"), want: `[{"decision":false}]`, evaluated: 1},
		{name: "permit_on_first_permit stops at the second item", body: body("permit_on_first_permit"), want: `[{"decision":false},{"decision":true}]`, evaluated: 2},
		{name: "an invalid item is a deny for deny_on_first_deny",
			body:      `{"options":{"evaluations_semantic":"deny_on_first_deny"},"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"evaluations":[{"resource":{"type":"record","id":"record-1"}},{"resource":7},{"resource":{"type":"record","id":"record-2"}}]}`,
			want:      `[{"decision":true},{"decision":false,"context":{"error":{"status":400,"message":"evaluations[1].resource must be an object"}}}]`,
			evaluated: 1},
		{name: "item entity replaces the default whole",
			body:      `{"subject":{"type":"user","id":"bob","properties":{"role":"admin"}},"action":{"name":"write"},"resource":{"type":"record","id":"record-2"},"evaluations":[{},{"subject":{"type":"user","id":"bob"}}]}`,
			want:      `[{"decision":true},{"decision":false}]`,
			evaluated: 2},
		{name: "item that is not an object",
			body:      `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"evaluations":["x",{}]}`,
			want:      `[{"decision":false,"context":{"error":{"status":400,"message":"evaluations[0] must be an object"}}},{"decision":true}]`,
			evaluated: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.audit.recorded())
			res := srv.do(t, http.MethodPost, pdphttp.PathEvaluations, "application/json", []byte(tc.body), nil)
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			if got := compact(t, res.json(t)["evaluations"]); got != tc.want {
				t.Errorf("evaluations\n got %s\nwant %s", got, tc.want)
			}
			if n := len(srv.audit.recorded()) - before; n != tc.evaluated {
				t.Errorf("%d decisions audited, want %d", n, tc.evaluated)
			}
		})
	}
}

// TestAuthZENEvaluationsWithoutItems: a batch without items is one
// evaluation and answers like /access/v1/evaluation.
func TestAuthZENEvaluationsWithoutItems(t *testing.T) {
	srv := startAuthZEN(t, bundleRevision(t, "certification"), serverOptions{})
	for _, tc := range []struct{ name, items string }{
		{name: "absent"},
		{name: "null", items: `,"evaluations":null`},
		{name: "empty", items: `,"evaluations":[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := validEvaluation[:len(validEvaluation)-1] + tc.items + `}`
			res := srv.do(t, http.MethodPost, pdphttp.PathEvaluations, "application/json", []byte(body), nil)
			if res.status != 200 || compact(t, res.body) != `{"decision":true}` {
				t.Fatalf("got %d %s, want 200 {\"decision\":true}", res.status, res.body)
			}
		})
	}
}

// TestAuthZENDecisionsAudited: AuthZEN decisions reach the audit trail like
// native ones, with the request id, client and entities.
func TestAuthZENDecisionsAudited(t *testing.T) {
	srv := startAuthZEN(t, bundleRevision(t, "certification"), serverOptions{})
	res := srv.do(t, http.MethodPost, pdphttp.PathEvaluation, "application/json", []byte(validEvaluation), map[string]string{"X-Request-ID": "audit-1"})
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	evs := srv.audit.recorded()
	if len(evs) != 1 {
		t.Fatalf("%d audit events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.API != "authzen" || ev.RequestID != "audit-1" || ev.ClientID != testClientID || ev.Subject != "alice" ||
		ev.Action != "read" || ev.ResourceType != "record" || ev.ResourceID != "record-1" || ev.Outcome != "allow" || ev.PolicyHash == "" {
		t.Errorf("audit event %+v", ev)
	}
	var in map[string]any
	if err := json.Unmarshal(ev.Input, &in); err != nil || in["resource"] == nil {
		t.Errorf("audited input %s: %v", ev.Input, err)
	}
}
