package backchanneltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
)

// base is a fixed moment; stores must keep times to at least millisecond precision.
var base = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func sample(id string, next time.Time) backchannel.Record {
	return backchannel.Record{
		ID: id, DecisionID: "dec-" + id, Issuer: "https://idp.example/", AuthReqID: "auth-" + id,
		Status: backchannel.StatusPending, Interval: 5 * time.Second, NextPollAt: next,
		ExpiresAt: base.Add(5 * time.Minute), LeaseOwner: "a", LeaseUntil: next.Add(30 * time.Second),
		CreatedAt: base, UpdatedAt: base,
	}
}

// RunStoreConformance runs the Store contract against stores made by newStore.
func RunStoreConformance(t *testing.T, newStore func(t testing.TB) backchannel.Store) {
	t.Run("save and get round trip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("duplicate and missing ids", func(t *testing.T) { testIDs(t, newStore(t)) })
	t.Run("update needs the lease owner", func(t *testing.T) { testUpdateOwner(t, newStore(t)) })
	t.Run("pending requests", func(t *testing.T) { testPending(t, newStore(t)) })
	t.Run("lease rules", func(t *testing.T) { testLease(t, newStore(t)) })
	t.Run("concurrent lease has one winner", func(t *testing.T) { testLeaseRace(t, newStore(t)) })
}

func testRoundTrip(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	r := sample("r1", base.Add(5*time.Second))
	r.Claims = json.RawMessage(`{"sub":"alice"}`)
	r.IDToken, r.Error = "raw.id.token", "none"
	mustDo(t, "save", s.SaveRequest(ctx, r))
	got := mustGet(t, s, "r1")
	if err := sameRecord(got, r); err != nil {
		t.Fatalf("get after save: %v", err)
	}
}

func testIDs(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	mustDo(t, "save", s.SaveRequest(ctx, sample("r1", base)))
	if err := s.SaveRequest(ctx, sample("r1", base)); !errors.Is(err, backchannel.ErrDuplicate) {
		t.Fatalf("second save = %v, want ErrDuplicate", err)
	}
	if _, err := s.GetRequest(ctx, "nope"); !errors.Is(err, backchannel.ErrNotFound) {
		t.Fatalf("get unknown = %v, want ErrNotFound", err)
	}
	if err := s.UpdateRequest(ctx, sample("nope", base), "a"); !errors.Is(err, backchannel.ErrNotFound) {
		t.Fatalf("update unknown = %v, want ErrNotFound", err)
	}
	if _, err := s.TryLease(ctx, "nope", "a", base, base.Add(time.Minute)); !errors.Is(err, backchannel.ErrNotFound) {
		t.Fatalf("lease unknown = %v, want ErrNotFound", err)
	}
}

func testUpdateOwner(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	r := sample("r1", base)
	mustDo(t, "save", s.SaveRequest(ctx, r))
	r.Status, r.IDToken, r.LeaseOwner, r.LeaseUntil = backchannel.StatusApproved, "tok", "", time.Time{}
	if err := s.UpdateRequest(ctx, r, "b"); !errors.Is(err, backchannel.ErrLeaseLost) {
		t.Fatalf("update by non-owner = %v, want ErrLeaseLost", err)
	}
	mustDo(t, "update by owner", s.UpdateRequest(ctx, r, "a"))
	if err := sameRecord(mustGet(t, s, "r1"), r); err != nil {
		t.Fatalf("get after update: %v", err)
	}
	// Released: only an update "by nobody" matches until someone leases it.
	if err := s.UpdateRequest(ctx, r, "a"); !errors.Is(err, backchannel.ErrLeaseLost) {
		t.Fatalf("update after release = %v, want ErrLeaseLost", err)
	}
}

func testPending(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	for i, id := range []string{"late", "early", "middle", "done"} {
		r := sample(id, base.Add(time.Duration([]int{30, 10, 20, 0}[i])*time.Second))
		if id == "done" {
			r.Status = backchannel.StatusDenied
		}
		mustDo(t, "save "+id, s.SaveRequest(ctx, r))
	}
	got, err := s.PendingRequests(ctx, 10)
	mustDo(t, "pending", err)
	if ids := idsOf(got); fmt.Sprint(ids) != "[early middle late]" {
		t.Fatalf("pending = %v, want [early middle late] (no terminal ones, earliest first)", ids)
	}
	got, err = s.PendingRequests(ctx, 2)
	mustDo(t, "pending with limit", err)
	if ids := idsOf(got); fmt.Sprint(ids) != "[early middle]" {
		t.Fatalf("pending limit 2 = %v, want [early middle]", ids)
	}
}

func testLease(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	mustDo(t, "save", s.SaveRequest(ctx, sample("r1", base))) // held by "a" until base+30s
	steps := []struct {
		name  string
		owner string
		now   time.Time
		want  bool
		after string // lease owner afterwards
	}{
		{name: "other owner while valid", owner: "b", now: base.Add(10 * time.Second), want: false, after: "a"},
		{name: "holder renews", owner: "a", now: base.Add(10 * time.Second), want: true, after: "a"},
		{name: "other owner at the renewed expiry", owner: "b", now: base.Add(70 * time.Second), want: true, after: "b"},
		{name: "previous holder locked out", owner: "a", now: base.Add(80 * time.Second), want: false, after: "b"},
	}
	for _, st := range steps {
		ok, err := s.TryLease(ctx, "r1", st.owner, st.now, st.now.Add(60*time.Second))
		mustDo(t, st.name, err)
		if got := mustGet(t, s, "r1"); ok != st.want || got.LeaseOwner != st.after {
			t.Fatalf("%s: TryLease = %v, owner %q; want %v, owner %q", st.name, ok, got.LeaseOwner, st.want, st.after)
		}
	}
}

func testLeaseRace(t *testing.T, s backchannel.Store) {
	ctx := context.WithoutCancel(t.Context())
	r := sample("r1", base)
	r.LeaseOwner, r.LeaseUntil = "", time.Time{}
	mustDo(t, "save", s.SaveRequest(ctx, r))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			ok, err := s.TryLease(ctx, "r1", fmt.Sprintf("owner-%d", i), base, base.Add(time.Minute))
			if err != nil {
				t.Errorf("TryLease: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent leases succeeded, want exactly 1", wins.Load())
	}
}
