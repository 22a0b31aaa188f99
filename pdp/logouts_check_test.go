package pdp_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/trust"
)

const logoutPolicy = `
decision := {"decision": "deny", "reasons": ["nope is never allowed"]} if input.action.name == "nope"

decision := {"decision": "step_up", "reasons": ["billing needs mfa"], "requirements": {"amr_any": ["mfa"]}} if {
	input.action.name == "billing.view"
	not input.subject.authn.mfa
}

decision := {"decision": "allow"} if {
	input.action.name == "billing.view"
	input.subject.authn.mfa
}

decision := {"decision": "allow", "reasons": ["documents are open"]} if input.action.name == "doc.view"
`

// logoutService is a Service deciding asserted claims with the index and
// an elevation store.
type logoutService struct {
	svc        *pdp.Service
	logouts    *session.Logouts
	elevations *pdptest.Elevations
	client     clientauth.Client
}

func newLogoutService(t testing.TB, clk *logoutClock) *logoutService {
	t.Helper()
	engine := policy.NewEngine(policy.EngineConfig{})
	if err := engine.Load(t.Context(), rev(1, logoutPolicy)); err != nil {
		t.Fatal(err)
	}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ls := &logoutService{logouts: newLogouts(t, pdptest.NewLogouts(), clk), elevations: pdptest.NewElevations(),
		client: clientauth.Client{ID: "billing-svc", AssertClaims: true}}
	ls.svc, err = pdp.NewService(pdp.ServiceConfig{Engine: engine, Verifier: verifier, Transactions: pdptest.NewTransactions(),
		Elevations: ls.elevations, Logouts: ls.logouts, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func (ls *logoutService) decide(t testing.TB, action, session string, authTime time.Time) *pdp.Decision {
	t.Helper()
	claims := map[string]any{"iss": testIssuer, "sub": "alice", "sid": "sid-1", "amr": []any{"pwd"}, "auth_time": authTime.Unix()}
	d, err := ls.svc.Decide(t.Context(), ls.client, &pdp.Request{Claims: claims, Action: action, SessionID: session})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDecideAfterLogout: the policy's answer for a logged-out session
// becomes a step-up to a fresh login, whatever the decision cache holds,
// unless the policy denies; a step-up made after the logout counts.
func TestDecideAfterLogout(t *testing.T) {
	t0 := time.Date(2025, 11, 20, 10, 0, 0, 0, time.UTC)
	clk := &logoutClock{now: t0}
	ls := newLogoutService(t, clk)
	login := t0.Add(-time.Hour)
	if d := ls.decide(t, "doc.view", "", login); d.Outcome != policy.Allow {
		t.Fatalf("before the logout: %s %v", d.Outcome, d.Reasons) // and now cached
	}
	record(t, ls.logouts, session.Logout{Issuer: testIssuer, SID: "sid-1", At: t0.Add(-time.Minute)})

	d := ls.decide(t, "doc.view", "", login)
	if d.Outcome != policy.StepUp || d.Requirements == nil || !d.Requirements.FreshLogin || d.StepUp == nil {
		t.Fatalf("after the logout: %s %v %+v, want a step_up to a fresh login", d.Outcome, d.Reasons, d.Requirements)
	}
	if !strings.Contains(d.Reasons[0], "back-channel logout from "+testIssuer) || !slices.Contains(d.Reasons, "documents are open") {
		t.Fatalf("reasons %q: want the logout first, then the policy's", d.Reasons)
	}
	d = ls.decide(t, "billing.view", "", login)
	if d.Outcome != policy.StepUp || !d.Requirements.FreshLogin || !slices.Equal(d.Requirements.AMRAny, []string{"mfa"}) {
		t.Fatalf("billing after the logout: %s %+v, want the policy's requirements plus a fresh login", d.Outcome, d.Requirements)
	}
	if d := ls.decide(t, "nope", "", login); d.Outcome != policy.Deny {
		t.Fatalf("a deny became %s", d.Outcome)
	}
	if d := ls.decide(t, "doc.view", "", t0); d.Outcome != policy.Allow {
		t.Fatalf("a login after the logout: %s %v", d.Outcome, d.Reasons)
	}

	// The old token of the session, elevated by a step-up: before the
	// logout it stays ended, after it the user is back in.
	elevate := func(authTime time.Time) {
		t.Helper()
		if err := ls.elevations.SaveElevation(t.Context(), session.Elevation{ClientID: ls.client.ID, SessionID: "web-1",
			Issuer: testIssuer, Subject: "alice", Methods: []string{"pwd", "mfa"}, AuthTime: authTime,
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	elevate(t0.Add(-2 * time.Minute))
	if d := ls.decide(t, "billing.view", "web-1", login); d.Outcome != policy.StepUp || !d.Requirements.FreshLogin {
		t.Fatalf("elevated before the logout: %s %v", d.Outcome, d.Reasons)
	}
	elevate(t0.Add(-30 * time.Second))
	if d := ls.decide(t, "billing.view", "web-1", login); d.Outcome != policy.Allow {
		t.Fatalf("elevated after the logout: %s %v", d.Outcome, d.Reasons)
	}

	// A client's revocation of web-1 ends that session again.
	clk.now = t0.Add(time.Minute)
	record(t, ls.logouts, session.Logout{ClientID: ls.client.ID, SessionID: "web-1", At: clk.now})
	d = ls.decide(t, "billing.view", "web-1", login)
	if d.Outcome != policy.StepUp || !strings.Contains(d.Reasons[0], `session "web-1" was ended by client billing-svc`) {
		t.Fatalf("after the revocation: %s %v", d.Outcome, d.Reasons)
	}
}

// rev makes a revision of one Rego module.
func rev(id int64, body string) policy.Revision {
	f := policy.Files{"stepgate/policy.rego": []byte("package stepgate\n\n" + body)}
	return policy.Revision{ID: id, Hash: f.Hash(), Files: f}
}

// logoutClock is a settable clock for the service and the index.
type logoutClock struct{ now time.Time }

func (c *logoutClock) Now() time.Time { return c.now }

func newLogouts(t testing.TB, store session.LogoutStore, clk *logoutClock) *session.Logouts {
	t.Helper()
	l, err := session.NewLogouts(session.LogoutsConfig{Store: store, Retention: 24 * time.Hour, Skew: 5 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return l
}

const testIssuer = "https://idp.example/"

func record(t testing.TB, l *session.Logouts, m session.Logout) {
	t.Helper()
	if _, err := l.Record(t.Context(), m); err != nil {
		t.Fatal(err)
	}
}
