package conformance

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func cibaRequestTests() []subTest {
	return []subTest{
		{"CIBARequestRoundTrip", testCIBARequestRoundTrip},
		{"CIBARequestErrors", testCIBARequestErrors},
		{"CIBARequestUpdateNeedsLease", testCIBARequestUpdateOwner},
		{"CIBARequestPending", testCIBARequestPending},
		{"CIBARequestLease", testCIBARequestLease},
		{"CIBASweep", testCIBASweep},
	}
}

// newCIBARequest is a pending request leased by "a" until 30s after next.
func newCIBARequest(id string, next time.Time) storage.CIBARequest {
	return storage.CIBARequest{ID: id, DecisionID: "dec-" + id, Issuer: "https://idp.example/", AuthReqID: "auth-" + id,
		Status: "pending", Interval: 5 * time.Second, NextPollAt: next, ExpiresAt: baseTime().Add(5 * time.Minute),
		LeaseOwner: "a", LeaseUntil: next.Add(30 * time.Second), CreatedAt: baseTime(), UpdatedAt: baseTime()}
}

func mustGetCIBARequest(t testing.TB, s storage.Store, id string) storage.CIBARequest {
	t.Helper()
	r, err := s.GetCIBARequest(ctxFor(t), id)
	mustNoErr(t, err, "get ciba request "+id)
	return r
}

func assertCIBARequestEqual(t testing.TB, got, want storage.CIBARequest) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want time.Time
	}{{"NextPollAt", got.NextPollAt, want.NextPollAt}, {"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		{"LeaseUntil", got.LeaseUntil, want.LeaseUntil}, {"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"UpdatedAt", got.UpdatedAt, want.UpdatedAt}} {
		if !f.got.Equal(micro(f.want)) {
			t.Errorf("%s = %v, want %v", f.name, f.got, micro(f.want))
		}
	}
	if !bytes.Equal(got.Claims, want.Claims) {
		t.Errorf("Claims = %s, want %s", got.Claims, want.Claims)
	}
	if got.ID != want.ID || got.DecisionID != want.DecisionID || got.Issuer != want.Issuer ||
		got.AuthReqID != want.AuthReqID || got.Status != want.Status || got.Interval != want.Interval ||
		got.LeaseOwner != want.LeaseOwner || got.IDToken != want.IDToken || got.Error != want.Error {
		t.Errorf("request = %+v, want %+v", got, want)
	}
}

func testCIBARequestRoundTrip(t *testing.T, s storage.Store) {
	r := newCIBARequest("r1", baseTime().Add(5*time.Second))
	r.Claims, r.IDToken, r.Error = []byte(`{"sub":"alice"}`), "raw.id.token", "none"
	mustNoErr(t, s.SaveCIBARequest(ctxFor(t), r), "save")
	assertCIBARequestEqual(t, mustGetCIBARequest(t, s, "r1"), r)
}

func testCIBARequestErrors(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	mustNoErr(t, s.SaveCIBARequest(ctx, newCIBARequest("r1", baseTime())), "save")
	noStatus := newCIBARequest("r2", baseTime())
	noStatus.Status = ""
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"duplicate id", func() error { return s.SaveCIBARequest(ctx, newCIBARequest("r1", baseTime())) }, storage.ErrAlreadyExists},
		{"empty id", func() error { return s.SaveCIBARequest(ctx, newCIBARequest("", baseTime())) }, storage.ErrInvalid},
		{"empty status", func() error { return s.SaveCIBARequest(ctx, noStatus) }, storage.ErrInvalid},
		{"get unknown", func() error { _, err := s.GetCIBARequest(ctx, "nope"); return err }, storage.ErrNotFound},
		{"update unknown", func() error { return s.UpdateCIBARequest(ctx, newCIBARequest("nope", baseTime()), "a") }, storage.ErrNotFound},
		{"lease unknown", func() error {
			_, err := s.TryLeaseCIBARequest(ctx, "nope", "a", baseTime(), baseTime().Add(time.Minute))
			return err
		}, storage.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.call(), tc.want, tc.name) })
	}
}

func testCIBARequestUpdateOwner(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	r := newCIBARequest("r1", baseTime())
	mustNoErr(t, s.SaveCIBARequest(ctx, r), "save")
	r.Status, r.IDToken, r.LeaseOwner, r.LeaseUntil = "approved", "tok", "", time.Time{}
	wantErr(t, s.UpdateCIBARequest(ctx, r, "b"), storage.ErrConflict, "update by a replica without the lease")
	mustNoErr(t, s.UpdateCIBARequest(ctx, r, "a"), "update by the lease holder")
	assertCIBARequestEqual(t, mustGetCIBARequest(t, s, "r1"), r)
	// The update released the lease: its former holder no longer owns it.
	wantErr(t, s.UpdateCIBARequest(ctx, r, "a"), storage.ErrConflict, "update after release")
}

func testCIBARequestPending(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	for i, id := range []string{"late", "early", "middle", "done"} {
		r := newCIBARequest(id, baseTime().Add(time.Duration([]int{30, 10, 20, 0}[i])*time.Second))
		if id == "done" {
			r.Status = "denied"
		}
		mustNoErr(t, s.SaveCIBARequest(ctx, r), "save "+id)
	}
	for _, tc := range []struct {
		limit int
		want  string
	}{{10, "[early middle late]"}, {2, "[early middle]"}, {0, "[early middle late]"}} {
		got, err := s.PendingCIBARequests(ctx, tc.limit)
		mustNoErr(t, err, "pending")
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if fmt.Sprint(ids) != tc.want {
			t.Errorf("pending (limit %d) = %v, want %s: no ended ones, earliest next poll first", tc.limit, ids, tc.want)
		}
	}
}

func testCIBARequestLease(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	mustNoErr(t, s.SaveCIBARequest(ctx, newCIBARequest("r1", baseTime())), "save") // "a" holds it until +30s
	steps := []struct {
		name  string
		owner string
		now   time.Duration
		want  bool
		after string // lease owner afterwards
	}{
		{"other owner while valid", "b", 10 * time.Second, false, "a"},
		{"holder renews", "a", 10 * time.Second, true, "a"},
		{"other owner at the renewed expiry", "b", 70 * time.Second, true, "b"},
		{"previous holder locked out", "a", 80 * time.Second, false, "b"},
	}
	for _, st := range steps {
		now := baseTime().Add(st.now)
		ok, err := s.TryLeaseCIBARequest(ctx, "r1", st.owner, now, now.Add(time.Minute))
		mustNoErr(t, err, st.name)
		got := mustGetCIBARequest(t, s, "r1")
		if ok != st.want || got.LeaseOwner != st.after {
			t.Fatalf("%s: lease = %v, owner %q; want %v, owner %q", st.name, ok, got.LeaseOwner, st.want, st.after)
		}
		if ok && !got.LeaseUntil.Equal(micro(now.Add(time.Minute))) {
			t.Fatalf("%s: LeaseUntil = %v, want %v", st.name, got.LeaseUntil, micro(now.Add(time.Minute)))
		}
	}
}
