package backchannel_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
)

// harness is one poller against the fake IdP on a fake clock.
type harness struct {
	f     *fakeIdP
	store *backchannel.MemoryStore
	clock *fakeClock
	rec   *recorder
	p     *backchannel.Poller
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{f: newFakeIdP(t), store: backchannel.NewMemoryStore(), clock: newFakeClock(), rec: newRecorder()}
	h.p = h.poller(t, "replica-a", fakeSecret)
	return h
}

// poller returns another Poller on the harness's store, IdP and clock.
func (h *harness) poller(t testing.TB, owner, secret string) *backchannel.Poller {
	t.Helper()
	p, err := backchannel.New(backchannel.Config{
		Store:    h.store,
		Resolver: staticResolver{ep: h.f.endpoints(), creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: secret}},
		Changes:  h.rec.ch,
		Owner:    owner,
		Now:      h.clock.Now,
		After:    h.clock.After,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// track stores an acknowledged request without going through Start.
func (h *harness) track(t testing.TB, ack backchannel.Ack) backchannel.Record {
	t.Helper()
	r, err := h.p.Track(t.Context(), backchannel.Origin{ID: "ciba-1", DecisionID: "dec-1", Issuer: fakeIssuer}, ack)
	if err != nil {
		t.Fatalf("Track: %v", err)
	}
	return r
}

// step advances the clock by d and runs one pass of p.
func (h *harness) step(t testing.TB, p *backchannel.Poller, d time.Duration) time.Time {
	t.Helper()
	h.clock.Advance(d)
	next, err := p.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return next
}

func (h *harness) record(t testing.TB) backchannel.Record {
	t.Helper()
	r, err := h.p.Get(t.Context(), "ciba-1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return r
}

func TestPollerOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		script     []answer
		steps      int // passes, 2 s apart (the ack's interval)
		want       backchannel.Status
		wantPolls  int
		wantReason string
		// wantCode is the OAuth error code reported with the end.
		wantCode string
	}{
		{name: "pending then approved", script: []answer{pending, pending, approved}, steps: 3, want: backchannel.StatusApproved, wantPolls: 3},
		{name: "denied", script: []answer{pending, denied}, steps: 2, want: backchannel.StatusDenied, wantPolls: 2, wantReason: "access_denied", wantCode: "access_denied"},
		{name: "expired at the IdP", script: []answer{expired}, steps: 1, want: backchannel.StatusExpired, wantPolls: 1, wantReason: "expired_token", wantCode: "expired_token"},
		{name: "unknown auth_req_id", script: []answer{{400, `{"error":"invalid_grant"}`}}, steps: 1, want: backchannel.StatusError, wantPolls: 1, wantReason: "invalid_grant", wantCode: "invalid_grant"},
		{name: "bad gateway is retried", script: []answer{broken, broken, approved}, steps: 3, want: backchannel.StatusApproved, wantPolls: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.f.answers("req-1", tc.script...)
			h.track(t, backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 120, Interval: 2})
			if next := h.step(t, h.p, 0); !next.Equal(h.clock.Now().Add(2 * time.Second)) {
				t.Fatalf("before the interval: next pass at %v, want now+2s", next)
			}
			for range tc.steps {
				h.step(t, h.p, 2*time.Second)
			}
			r := h.record(t)
			if r.Status != tc.want || h.f.pollCount("req-1") != tc.wantPolls || !strings.Contains(r.Error, tc.wantReason) {
				t.Fatalf("record %+v after %d polls; want %s after %d polls, reason containing %q",
					r, h.f.pollCount("req-1"), tc.want, tc.wantPolls, tc.wantReason)
			}
			if r.LeaseOwner != "" {
				t.Fatalf("terminal record still leased to %q", r.LeaseOwner)
			}
			if got := h.rec.statuses(); !slices.Equal(got, []backchannel.Status{backchannel.StatusPending, tc.want}) {
				t.Fatalf("reported %v, want [pending %s]", got, tc.want)
			}
			if got := h.rec.last().Code; got != tc.wantCode {
				t.Fatalf("reported code %q, want %q", got, tc.wantCode)
			}
			h.step(t, h.p, time.Minute)
			if h.f.pollCount("req-1") != tc.wantPolls {
				t.Fatal("a terminal request was polled again")
			}
		})
	}
}

func TestPollerIntervals(t *testing.T) {
	tests := []struct {
		name    string
		ack     backchannel.Ack
		script  []answer
		wantGap []time.Duration // waits between successive polls
		want    backchannel.Status
		polls   int
	}{
		{name: "interval from the ack", ack: backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 600, Interval: 7},
			script: []answer{pending}, wantGap: []time.Duration{7 * time.Second, 7 * time.Second, 7 * time.Second}, want: backchannel.StatusPending, polls: 3},
		{name: "default interval when absent", ack: backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 600},
			script: []answer{pending}, wantGap: []time.Duration{5 * time.Second, 5 * time.Second}, want: backchannel.StatusPending, polls: 2},
		{name: "slow_down adds 5 s each time", ack: backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 600, Interval: 2},
			script: []answer{slowDown, slowDown, pending}, wantGap: []time.Duration{2 * time.Second, 7 * time.Second, 12 * time.Second, 12 * time.Second}, want: backchannel.StatusPending, polls: 4},
		{name: "last poll at expiry", ack: backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 12, Interval: 5},
			script: []answer{pending}, wantGap: []time.Duration{5 * time.Second, 5 * time.Second, 2 * time.Second}, want: backchannel.StatusExpired, polls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.f.answers("req-1", tc.script...)
			h.track(t, tc.ack)
			for i, gap := range tc.wantGap {
				polls := h.f.pollCount("req-1")
				next := h.step(t, h.p, gap-time.Millisecond)
				if h.f.pollCount("req-1") != polls {
					t.Fatalf("poll %d came before its %s interval", i+1, gap)
				}
				if want := h.clock.Now().Add(time.Millisecond); !next.Equal(want) {
					t.Fatalf("poll %d: next pass at %v, want %v", i+1, next, want)
				}
				h.step(t, h.p, time.Millisecond)
			}
			if r := h.record(t); r.Status != tc.want || h.f.pollCount("req-1") != tc.polls {
				t.Fatalf("record %+v after %d polls, want %s after %d", r, h.f.pollCount("req-1"), tc.want, tc.polls)
			}
			var reported []time.Duration
			for _, st := range h.rec.all() {
				reported = append(reported, st.Interval)
			}
			if strings.HasPrefix(tc.name, "slow_down") && !slices.Equal(reported, []time.Duration{2 * time.Second, 7 * time.Second, 12 * time.Second}) {
				t.Fatalf("reported intervals %v, want each slow_down reported: [2s 7s 12s]", reported)
			}
		})
	}
}

func TestPollerExpiresWithoutPolling(t *testing.T) {
	h := newHarness(t)
	h.f.answers("req-1", pending)
	h.track(t, backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 3, Interval: 5})
	h.step(t, h.p, 3*time.Second)
	if r := h.record(t); r.Status != backchannel.StatusExpired || h.f.pollCount("req-1") != 0 {
		t.Fatalf("record %+v after %d polls; want expired without polling", r, h.f.pollCount("req-1"))
	}
}

func TestPollerBadClientCredentials(t *testing.T) {
	h := newHarness(t)
	p := h.poller(t, "replica-a", "wrong-secret")
	h.f.answers("req-1", approved)
	if _, err := p.Track(t.Context(), backchannel.Origin{ID: "ciba-1", Issuer: fakeIssuer}, backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 60}); err != nil {
		t.Fatalf("Track: %v", err)
	}
	h.step(t, p, 5*time.Second)
	if r := h.record(t); r.Status != backchannel.StatusError || !strings.Contains(r.Error, "invalid_client") {
		t.Fatalf("record %+v, want error invalid_client", r)
	}
}

func TestPollerBegin(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name    string
		issuer  string
		req     backchannel.Request
		wantErr error
	}{
		{name: "started and tracked", issuer: fakeIssuer, req: backchannel.Request{Scope: "openid", LoginHint: "alice"}},
		{name: "two hints", issuer: fakeIssuer, req: backchannel.Request{Scope: "openid", LoginHint: "alice", IDTokenHint: "x"}, wantErr: backchannel.ErrInvalidRequest},
		{name: "unknown issuer", issuer: "https://elsewhere", req: backchannel.Request{Scope: "openid", LoginHint: "alice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := h.p.Begin(t.Context(), backchannel.Origin{DecisionID: "dec-" + tc.name, Issuer: tc.issuer}, tc.req)
			switch {
			case tc.issuer != fakeIssuer || tc.wantErr != nil:
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("Begin error = %v, want %v", err, tc.wantErr)
				}
			case err != nil:
				t.Fatalf("Begin: %v", err)
			case r.ID == "" || r.AuthReqID != "req-1" || r.Status != backchannel.StatusPending || r.Interval != 2*time.Second:
				t.Fatalf("Begin record = %+v", r)
			}
		})
	}
}

func TestPollerSettle(t *testing.T) {
	claims := json.RawMessage(`{"sub":"alice","acr":"urn:x"}`)
	tests := []struct {
		name       string
		verifyErr  error
		want       backchannel.Status
		wantClaims json.RawMessage
	}{
		{name: "verified", want: backchannel.StatusApproved, wantClaims: claims},
		{name: "verification failed", verifyErr: errors.New("auth_time too old"), want: backchannel.StatusError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if err := h.p.Settle(t.Context(), "ciba-1", claims, nil); !errors.Is(err, backchannel.ErrNotFound) {
				t.Fatalf("Settle(unknown) = %v, want ErrNotFound", err)
			}
			h.f.answers("req-1", approved)
			h.track(t, backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 60, Interval: 1})
			if err := h.p.Settle(t.Context(), "ciba-1", claims, nil); !errors.Is(err, backchannel.ErrNotApproved) {
				t.Fatalf("Settle(pending) = %v, want ErrNotApproved", err)
			}
			h.step(t, h.p, time.Second)
			if r := h.record(t); r.IDToken != "raw.id.token" {
				t.Fatalf("approved record keeps id_token %q, want the raw token until settled", r.IDToken)
			}
			if err := h.p.Settle(t.Context(), "ciba-1", claims, tc.verifyErr); err != nil {
				t.Fatalf("Settle: %v", err)
			}
			r := h.record(t)
			if r.Status != tc.want || r.IDToken != "" || string(r.Claims) != string(tc.wantClaims) {
				t.Fatalf("settled record %+v, want status %s, no id_token, claims %s", r, tc.want, tc.wantClaims)
			}
			// The consumer reports its own verification: nothing more.
			if got := h.rec.statuses(); !slices.Equal(got, []backchannel.Status{backchannel.StatusPending, backchannel.StatusApproved}) {
				t.Fatalf("reported %v, want [pending approved]", got)
			}
			wantAgain := backchannel.ErrSettled
			if tc.verifyErr != nil {
				wantAgain = backchannel.ErrNotApproved
			}
			if err := h.p.Settle(t.Context(), "ciba-1", nil, nil); !errors.Is(err, wantAgain) || string(h.record(t).Claims) != string(tc.wantClaims) {
				t.Fatalf("second Settle = %v (want %v), changed claims to %s", err, wantAgain, h.record(t).Claims)
			}
		})
	}
}
