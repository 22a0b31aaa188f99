package backchannel_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
)

// TestPollerResumesAfterRestart: a new Poller on the same store carries on
// with a pending request — at once when it keeps the owner name, after the
// lease ran out when it does not.
func TestPollerResumesAfterRestart(t *testing.T) {
	tests := []struct {
		name        string
		owner       string
		firstPollIn time.Duration // from the planned poll
	}{
		{name: "same owner resumes at the planned poll", owner: "replica-a", firstPollIn: 0},
		{name: "new owner waits for the lease", owner: "replica-b", firstPollIn: 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.f.answers("req-1", pending, approved)
			h.track(t, backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 300, Interval: 2})
			h.step(t, h.p, 2*time.Second) // first poll: pending; the old process then "dies"

			restarted := h.poller(t, tc.owner, fakeSecret)
			h.step(t, restarted, 2*time.Second) // the planned poll
			if tc.firstPollIn > 0 {
				if h.f.pollCount("req-1") != 1 {
					t.Fatal("a new owner polled while the old lease was valid")
				}
				h.step(t, restarted, tc.firstPollIn)
			}
			if r := h.record(t); r.Status != backchannel.StatusApproved || h.f.pollCount("req-1") != 2 {
				t.Fatalf("after restart: record %+v after %d polls, want approved after 2", r, h.f.pollCount("req-1"))
			}
		})
	}
}

// TestPollerLeasePreventsDoublePolling runs two replicas on one store at the
// same moments, concurrently; each due poll happens exactly once.
func TestPollerLeasePreventsDoublePolling(t *testing.T) {
	h := newHarness(t)
	b := h.poller(t, "replica-b", fakeSecret)
	h.f.answers("req-1", pending)
	h.track(t, backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 300, Interval: 2})
	for i := 1; i <= 5; i++ {
		h.clock.Advance(2 * time.Second)
		var wg sync.WaitGroup
		for _, p := range []*backchannel.Poller{h.p, b} {
			wg.Go(func() {
				if _, err := p.RunOnce(t.Context()); err != nil {
					t.Errorf("RunOnce: %v", err)
				}
			})
		}
		wg.Wait()
		if got := h.f.pollCount("req-1"); got != i {
			t.Fatalf("after %d intervals the IdP saw %d polls, want %d", i, got, i)
		}
	}
	if r := h.record(t); r.LeaseOwner != "replica-a" {
		t.Fatalf("lease held by %q, want the replica that started it", r.LeaseOwner)
	}
}

// TestPollerRun drives the background loop through the injected scheduler.
func TestPollerRun(t *testing.T) {
	h := newHarness(t)
	h.f.answers("req-1", pending, approved)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.p.Run(ctx) }()

	<-h.clock.waiting // idle: nothing stored yet
	h.track(t, backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 300, Interval: 3})
	if st := (<-h.rec.ch).State; st.Status != backchannel.StatusPending {
		t.Fatalf("first report %+v, want pending", st)
	}
	for h.f.pollCount("req-1") < 2 {
		<-h.clock.waiting // Run waits for its next pass
		h.clock.Advance(3 * time.Second)
	}
	if st := (<-h.rec.ch).State; st.Status != backchannel.StatusApproved || st.IDToken != "raw.id.token" || st.DecisionID != "dec-1" {
		t.Fatalf("report %+v, want approved with the raw id_token for dec-1", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
}
