package backchannel_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
)

// TestSettleOnce: however many callers settle one approval at the same time
// — the poller's report and status reads, on one replica or two — exactly
// one succeeds, so the consumer records the approval once.
func TestSettleOnce(t *testing.T) {
	tests := []struct {
		name     string
		replicas int
	}{
		{name: "one replica, concurrent callers", replicas: 1},
		{name: "two replicas, concurrent callers", replicas: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.f.answers("req-1", approved)
			h.track(t, backchannel.Ack{AuthReqID: "req-1", ExpiresIn: 60, Interval: 1})
			h.step(t, h.p, time.Second)
			// Every caller reads the unsettled approval before any settles it.
			const callers = 8
			gate := &barrierStore{Store: h.store, n: callers, all: make(chan struct{})}
			var pollers []*backchannel.Poller
			for _, owner := range []string{"replica-a", "replica-b"}[:tc.replicas] {
				pollers = append(pollers, h.pollerOn(t, gate, owner))
			}
			claims := json.RawMessage(`{"sub":"alice"}`)
			var settled atomic.Int32
			var wg sync.WaitGroup
			for i := range callers {
				p := pollers[i%len(pollers)]
				wg.Go(func() {
					err := p.Settle(t.Context(), "ciba-1", claims, nil)
					switch {
					case err == nil:
						settled.Add(1)
					case errors.Is(err, backchannel.ErrSettled), errors.Is(err, backchannel.ErrLeaseLost):
					default:
						t.Errorf("Settle: %v", err)
					}
				})
			}
			wg.Wait()
			if n := settled.Load(); n != 1 {
				t.Fatalf("%d callers settled the approval, want exactly 1", n)
			}
			if r := h.record(t); r.IDToken != "" || string(r.Claims) != string(claims) || r.LeaseOwner != "" {
				t.Fatalf("settled record %+v, want the claims, no id_token, no lease", r)
			}
		})
	}
}

// barrierStore holds each of the first n GetRequest calls until all n have
// been made, so that concurrent callers all see the same stored state.
type barrierStore struct {
	backchannel.Store
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (b *barrierStore) GetRequest(ctx context.Context, id string) (backchannel.Record, error) {
	r, err := b.Store.GetRequest(ctx, id)
	b.mu.Lock()
	wait := b.arrived < b.n
	if wait {
		b.arrived++
		if b.arrived == b.n {
			close(b.all)
		}
	}
	b.mu.Unlock()
	if wait {
		<-b.all
	}
	return r, err
}

// pollerOn returns a Poller of the harness on another store (a wrapper).
func (h *harness) pollerOn(t testing.TB, st backchannel.Store, owner string) *backchannel.Poller {
	t.Helper()
	p, err := backchannel.New(backchannel.Config{Store: st,
		Resolver: staticResolver{ep: h.f.endpoints(), creds: backchannel.Credentials{ClientID: fakeClientID, ClientSecret: fakeSecret}},
		Owner:    owner, Now: h.clock.Now, After: h.clock.After})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}
