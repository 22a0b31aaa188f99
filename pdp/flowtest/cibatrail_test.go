//go:build unix

package flowtest

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/trust"
)

// trail is the CIBA flow events recorded for one request, in order.
func (f *flows) trail(cibaID string) []flow.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []flow.Event
	for _, ev := range f.events {
		if ev.Kind == flow.KindCIBA && ev.CIBAID == cibaID {
			out = append(out, ev)
		}
	}
	return out
}

// wantTrail checks that the request's transitions were recorded once each,
// in order, every one linked to the decision and the request.
func wantTrail(t testing.TB, e *env, decisionID, cibaID string, outcomes ...string) []flow.Event {
	t.Helper()
	evs := e.flows.trail(cibaID)
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Outcome)
		if ev.DecisionID != decisionID || ev.CIBAID != cibaID || ev.Kind != flow.KindCIBA {
			t.Errorf("event %+v is not linked to decision %s and ciba request %s", ev, decisionID, cibaID)
		}
	}
	if !slices.Equal(got, outcomes) {
		t.Fatalf("ciba trail %v, want %v (events %+v)", got, outcomes, evs)
	}
	return evs
}

// TestCIBATrail: against the real provider, every transition of a request
// is one record — started, then approved (with the proof's facts),
// denied, expired, or error for an approval too weak for the policy —
// and reading the status again, polling again or starting again adds none.
func TestCIBATrail(t *testing.T) {
	tests := []struct {
		name   string
		answer func(p *pdptest.OIDCProvider, authReqID string) error
		wait   time.Duration
		want   string
		// code is the record's error code; "*" any non-empty one.
		code string
	}{
		{"approved with MFA", func(p *pdptest.OIDCProvider, id string) error { return p.ApproveCIBA(id, "", nil) },
			time.Second, "approved", ""},
		{"approval too weak fails verification", func(p *pdptest.OIDCProvider, id string) error {
			return p.ApproveCIBA(id, pdptest.ProviderACRPassword, []string{"pwd"})
		}, time.Second, "error", "*"},
		{"denied", func(p *pdptest.OIDCProvider, id string) error { return p.DenyCIBA(id) }, time.Second, "denied", "access_denied"},
		{"expired unanswered", func(*pdptest.OIDCProvider, string) error { return nil }, 301 * time.Second, "expired", ""},
	}
	idp, ic := startRealIdP(t)
	login := idp.signIn(t, idp.p.NewBrowser())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envConfig{issuer: ic})
			d := callCentre(t, e, login.access)
			st := e.startCIBA(t, d.ID)
			e.startCIBA(t, d.ID) // the same request: no second start
			wantTrail(t, e, d.ID, st.ID, "started")
			if err := tc.answer(idp.p, pendingAt(t, idp.p, d.CIBA.Request.BindingMessage)); err != nil {
				t.Fatal(err)
			}
			if got := e.poll(t, e.runner, tc.wait, st.ID); got.Status != tc.want {
				t.Fatalf("status %+v, want %s", got, tc.want)
			}
			e.poll(t, e.runner, time.Minute, st.ID)
			e.call(t, http.MethodPost, "/v1/ciba", clientKey, map[string]any{"decision_id": d.ID}, nil) // answers the status
			evs := wantTrail(t, e, d.ID, st.ID, "started", tc.want)
			end := evs[1]
			switch {
			case tc.code == "*" && end.Code == "", tc.code != "*" && end.Code != tc.code:
				t.Errorf("%s record has code %q, want %q", tc.want, end.Code, tc.code)
			case len(end.Reasons) == 0 || end.Subject != pdptest.TestUsername || end.ClientID != "billing-svc" || end.Action != "billing.pay":
				t.Errorf("%s record %+v lacks reasons, subject, client or action", tc.want, end)
			}
			if tc.want != "approved" {
				return
			}
			p := end.Proof
			if p == nil || p.ACR != trust.PAPEMultiFactor || !slices.Contains(p.AMR, "mfa") || p.AuthTime.IsZero() {
				t.Fatalf("approved record's proof %+v, want the ID token's acr, amr and auth_time", p)
			}
		})
	}
}

// scriptedIdP is a Go backchannel and token endpoint on the minted issuer:
// start answers the OAuth error startErr ("" acknowledges), each poll the
// next of polls ("" approves with MFA).
type scriptedIdP struct {
	mu       sync.Mutex
	startErr string
	polls    []string
	n        int
}

func (s *scriptedIdP) install(m *mintedIdP) {
	m.Handle("POST /bc-authorize", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if s.startErr != "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"` + s.startErr + `","error_description":"scripted"}`))
			return
		}
		_, _ = w.Write([]byte(`{"auth_req_id":"req-1","expires_in":120,"interval":1}`))
	}))
	m.Handle("POST /token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		answer := s.polls[min(s.n, len(s.polls)-1)]
		s.n++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if answer != "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"` + answer + `"}`))
			return
		}
		_, _ = w.Write([]byte(`{"token_type":"Bearer","access_token":"at","id_token":"` + m.approval(r) + `"}`))
	}))
}

// TestCIBATrailErrors: an IdP that refuses the start, or fails a poll, is
// one error record with its OAuth error code.
func TestCIBATrailErrors(t *testing.T) {
	tests := []struct {
		name     string
		idp      *scriptedIdP
		outcomes []string
		code     string
	}{
		{"start refused", &scriptedIdP{startErr: "unknown_user_id", polls: []string{""}}, []string{"error"}, "unknown_user_id"},
		{"poll failed", &scriptedIdP{polls: []string{"authorization_pending", "invalid_grant"}}, []string{"started", "error"}, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMintedEnv(t)
			tc.idp.install(m)
			e := m.e
			d := callCentre(t, e, m.login(t, time.Minute, "idp-sid-1"))
			var st cibaStatus
			code := e.call(t, http.MethodPost, "/v1/ciba", clientKey, map[string]any{"decision_id": d.ID}, &st)
			if tc.idp.startErr != "" {
				if code == http.StatusCreated {
					t.Fatalf("start the IdP refused: HTTP %d %+v", code, st)
				}
				st.ID = d.CIBA.ID
			}
			for range 3 {
				e.poll(t, e.runner, time.Second, st.ID)
			}
			evs := wantTrail(t, e, d.ID, st.ID, tc.outcomes...)
			if end := evs[len(evs)-1]; end.Code != tc.code || !strings.Contains(strings.Join(end.Reasons, " "), tc.code) {
				t.Fatalf("error record %+v, want code %s named in the reasons", end, tc.code)
			}
		})
	}
}

// TestCIBATrailReplicas: two replicas poll the same request at the same
// moments while the app reads its status; the approval is recorded once.
// Then a replica that takes over a request whose owner stopped records the
// end once too.
func TestCIBATrailReplicas(t *testing.T) {
	t.Run("concurrent replicas", func(t *testing.T) {
		m := newMintedEnv(t)
		(&scriptedIdP{polls: []string{"authorization_pending", ""}}).install(m)
		e := m.e
		d := callCentre(t, e, m.login(t, time.Minute, "idp-sid-1"))
		st := e.startCIBA(t, d.ID)
		b := e.newRunner(t, "replica-b")
		for range 4 {
			e.clock.Advance(time.Second)
			var wg sync.WaitGroup
			for _, r := range []*ciba.Runner{e.runner, b} {
				wg.Go(func() {
					if _, err := r.RunOnce(t.Context()); err != nil {
						t.Errorf("RunOnce: %v", err)
					}
				})
				wg.Go(func() { e.call(t, http.MethodGet, "/v1/ciba/"+st.ID, clientKey, nil, nil) })
			}
			wg.Wait()
		}
		if got := e.poll(t, b, time.Second, st.ID); got.Status != "approved" {
			t.Fatalf("status %+v, want approved", got)
		}
		wantTrail(t, e, d.ID, st.ID, "started", "approved")
	})
	t.Run("takeover after the owner stopped", func(t *testing.T) {
		m := newMintedEnv(t)
		(&scriptedIdP{polls: []string{"access_denied"}}).install(m)
		e := m.e
		d := callCentre(t, e, m.login(t, time.Minute, "idp-sid-1"))
		st := e.startCIBA(t, d.ID) // the starting replica stops here
		b := e.newRunner(t, "replica-b")
		if got := e.poll(t, b, time.Second, st.ID); got.Status != "pending" {
			t.Fatalf("took over a leased request: %+v", got)
		}
		if got := e.poll(t, b, 31*time.Second, st.ID); got.Status != "denied" {
			t.Fatalf("after the lease: %+v, want denied", got)
		}
		e.poll(t, e.runner, time.Second, st.ID) // the first replica is back: nothing left to do
		wantTrail(t, e, d.ID, st.ID, "started", "denied")
	})
}
