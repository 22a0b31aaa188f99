//go:build unix

package flowtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// callCentre asks for billing.pay from the call centre, which the default
// policy answers with ciba, and checks that stepgate offers to run it.
func callCentre(t testing.TB, e *env, token string) pdp.Decision {
	t.Helper()
	d := e.decide(t, token, "billing.pay", "", map[string]any{"channel": "call_center", "amount": 1200})
	wantOutcome(t, d, policy.CIBA)
	if d.CIBA == nil || d.CIBA.ID == "" || d.CIBA.StatusURL != "/v1/ciba/"+d.CIBA.ID {
		t.Fatalf("ciba answer %+v, want an id and status_url", d.CIBA)
	}
	return d
}

// pendingAt finds the provider's auth_req_id for a binding message.
func pendingAt(t testing.TB, p *pdptest.OIDCProvider, msg string) string {
	t.Helper()
	reqs, err := p.PendingCIBA()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if r.BindingMessage == msg {
			return r.AuthReqID
		}
	}
	t.Fatalf("no pending CIBA request with binding message %q in %+v", msg, reqs)
	return ""
}

func TestCIBAOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		answer func(p *pdptest.OIDCProvider, authReqID string) error
		// wait is how long stepgate's clock moves before the poll.
		wait time.Duration
		want string
		// audited is the flow outcome recorded for the decision.
		audited string
	}{
		{"approved on the phone with MFA", func(p *pdptest.OIDCProvider, id string) error { return p.ApproveCIBA(id, "", nil) },
			time.Second, "approved", "approved"},
		{"approved with a password only", func(p *pdptest.OIDCProvider, id string) error {
			return p.ApproveCIBA(id, pdptest.ProviderACRPassword, []string{"pwd"})
		}, time.Second, "error", "error"},
		{"denied", func(p *pdptest.OIDCProvider, id string) error { return p.DenyCIBA(id) }, time.Second, "denied", "denied"},
		{"expired unanswered", func(*pdptest.OIDCProvider, string) error { return nil }, 301 * time.Second, "expired", "expired"},
	}
	idp, ic := startRealIdP(t)
	login := idp.signIn(t, idp.p.NewBrowser())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envConfig{issuer: ic})
			d := callCentre(t, e, login.access)
			st := e.startCIBA(t, d.ID)
			if st.ID != d.CIBA.ID || st.Status != "pending" || st.ExpiresIn <= 0 || st.ExpiresIn > 300 {
				t.Fatalf("started %+v", st)
			}
			if again := e.startCIBA(t, d.ID); again.ID != st.ID || again.Status != "pending" {
				t.Fatalf("second start %+v, want the same pending request", again)
			}
			if err := tc.answer(idp.p, pendingAt(t, idp.p, d.CIBA.Request.BindingMessage)); err != nil {
				t.Fatal(err)
			}
			got := e.poll(t, e.runner, tc.wait, st.ID)
			if got.Status != tc.want {
				t.Fatalf("status %+v, want %s", got, tc.want)
			}
			if tc.want == "approved" && (got.Claims["sub"] != pdptest.TestUsername || got.Claims["acr"] != trust.PAPEMultiFactor) {
				t.Fatalf("approved claims %v", got.Claims)
			}
			if tc.want != "approved" && (got.Claims != nil || got.Error == "") {
				t.Fatalf("%s status %+v: want a reason and no claims", tc.want, got)
			}
			ev, ok := e.flows.find(flow.KindCIBA, tc.audited)
			if !ok || ev.DecisionID != d.ID || ev.CIBAID != st.ID || ev.Subject != pdptest.TestUsername {
				t.Fatalf("audit %+v (found %v), want %s linked to decision %s", ev, ok, tc.audited, d.ID)
			}
		})
	}
}

// TestCIBAAccess: a request is visible only to the client that started it,
// and explicit starts need a client trusted to name users.
func TestCIBAAccess(t *testing.T) {
	idp, ic := startRealIdP(t)
	e := newEnv(t, envConfig{issuer: ic})
	d := callCentre(t, e, idp.signIn(t, idp.p.NewBrowser()).access)
	var body map[string]any
	if code := e.call(t, http.MethodGet, d.CIBA.StatusURL, clientKey, nil, &body); code != http.StatusConflict {
		t.Fatalf("status before start: HTTP %d %v, want 409 not_started", code, body)
	}
	if code := e.call(t, http.MethodPost, "/v1/ciba", trustedKey, map[string]any{"decision_id": d.ID}, &body); code != http.StatusNotFound {
		t.Fatalf("another client starting it: HTTP %d %v, want 404", code, body)
	}
	explicit := map[string]any{"subject": pdptest.TestUsername, "binding_message": "CALL-7", "action": "billing.pay",
		"requirements": map[string]any{"amr_any": []string{"mfa"}}}
	if code := e.call(t, http.MethodPost, "/v1/ciba", clientKey, explicit, &body); code != http.StatusForbidden {
		t.Fatalf("explicit start by an ordinary client: HTTP %d %v, want 403", code, body)
	}
	explicit["binding_message"] = "Pay 1200 yen?"
	if code := e.call(t, http.MethodPost, "/v1/ciba", trustedKey, explicit, &body); code != http.StatusBadRequest {
		t.Fatalf("binding message the dialect refuses: HTTP %d %v, want 400", code, body)
	}
	explicit["binding_message"] = "CALL-7"
	var st cibaStatus
	if code := e.call(t, http.MethodPost, "/v1/ciba", trustedKey, explicit, &st); code != http.StatusCreated || st.Status != "pending" {
		t.Fatalf("explicit start: HTTP %d %+v", code, st)
	}
	if err := idp.p.ApproveCIBA(pendingAt(t, idp.p, "CALL-7"), "", nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.runner.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code := e.call(t, http.MethodGet, "/v1/ciba/"+st.ID, trustedKey, nil, &st); code != http.StatusOK || st.Status != "approved" {
		t.Fatalf("explicit request: HTTP %d %+v", code, st)
	}
	if code := e.call(t, http.MethodGet, "/v1/ciba/"+st.ID, clientKey, nil, &body); code != http.StatusNotFound {
		t.Fatalf("another client reading it: HTTP %d %v, want 404", code, body)
	}
}

// TestCIBARestartWhilePending: the process that started the request stops;
// a new runner on the same stores resumes polling — at once under the same
// replica name, after the lease under another. (The SQL stores meet the
// same contracts: cmd/stepgate runs them against SQLite and PostgreSQL.)
func TestCIBARestartWhilePending(t *testing.T) {
	tests := []struct {
		name  string
		owner string
		wait  time.Duration
	}{
		{"same replica name resumes at once", "replica-a", time.Second},
		{"another replica takes over after the lease", "replica-b", 31 * time.Second},
	}
	idp, ic := startRealIdP(t)
	login := idp.signIn(t, idp.p.NewBrowser())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envConfig{issuer: ic, owner: "replica-a"})
			d := callCentre(t, e, login.access)
			st := e.startCIBA(t, d.ID)
			// "replica-a" stops here: it never polls again.
			if err := idp.p.ApproveCIBA(pendingAt(t, idp.p, d.CIBA.Request.BindingMessage), "", nil); err != nil {
				t.Fatal(err)
			}
			restarted := e.newRunner(t, tc.owner)
			if tc.owner != "replica-a" {
				if got := e.poll(t, restarted, time.Second, st.ID); got.Status != "pending" {
					t.Fatalf("took over a leased request: %+v", got)
				}
			}
			if got := e.poll(t, restarted, tc.wait, st.ID); got.Status != "approved" || got.Claims["sub"] != pdptest.TestUsername {
				t.Fatalf("after restart: %+v, want approved", got)
			}
		})
	}
}
