package pdp_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
)

// announcingSink records how many announcements were outstanding whenever
// events arrived.
type announcingSink struct {
	mu          sync.Mutex
	outstanding int
	announced   int
	seen        []int // outstanding announcements at each Record
	events      int
}

func (s *announcingSink) Announce() func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outstanding++
	s.announced++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.outstanding--
		})
	}
}

func (s *announcingSink) Record(_ context.Context, evs []pdp.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, s.outstanding)
	s.events += len(evs)
	return nil
}

// The service announces each call (one announcement per batch) and
// releases it before recording, so a grouping writer never waits for a
// record that is already being written.
func TestServiceAnnouncesDecisionsBeforeRecording(t *testing.T) {
	sink := &announcingSink{}
	svc, idp := benchService(t, sink)
	client := clientauth.Client{ID: "svc", AssertClaims: true}
	claims := map[string]any{"iss": idp.URL(), "sub": "alice", "amr": []any{"pwd"}, "auth_time": time.Now().Unix() - 30}
	if _, err := svc.Decide(t.Context(), client, &pdp.Request{Claims: claims, Action: "profile.update"}); err != nil {
		t.Fatal(err)
	}
	batch := []*pdp.Request{
		{Claims: claims, Action: "profile.update"},
		{Claims: claims, Action: "billing.view"},
	}
	if _, err := svc.DecideBatch(t.Context(), client, batch); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.announced != 2 || sink.events != 3 {
		t.Errorf("announced %d times for %d events, want 2 announcements for 3 events", sink.announced, sink.events)
	}
	for i, n := range sink.seen {
		if n != 0 {
			t.Errorf("record %d arrived with %d announcements outstanding, want 0", i, n)
		}
	}
	if sink.outstanding != 0 {
		t.Errorf("%d announcements never released", sink.outstanding)
	}
}
