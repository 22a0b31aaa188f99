package conformance

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func logoutTests() []subTest {
	return []subTest{
		{"LogoutSaveList", testLogoutSaveList},
		{"LogoutInvalid", testLogoutInvalid},
		{"LogoutDeleteExpired", testLogoutDeleteExpired},
	}
}

func logoutFixture(now time.Time) []storage.SessionLogout {
	return []storage.SessionLogout{
		{Issuer: "https://idp.example/", SID: "sid-1", Subject: "alice", JTI: "j1", At: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)},
		{Issuer: "https://idp.example/", Subject: "bob", JTI: "j2", At: now, ExpiresAt: now.Add(2 * time.Hour)},
		{ClientID: "billing-svc", SessionID: "web-42", At: now, CreatedAt: now, ExpiresAt: now.Add(time.Minute)},
	}
}

func testLogoutSaveList(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := baseTime()
	var saved []storage.SessionLogout
	for _, l := range logoutFixture(now) {
		got, err := s.SaveLogout(ctx, l)
		mustNoErr(t, err, "save logout")
		if len(saved) > 0 && got.ID <= saved[len(saved)-1].ID {
			t.Fatalf("id %d after %d: ids must increase", got.ID, saved[len(saved)-1].ID)
		}
		if got.ID <= 0 || got.CreatedAt.IsZero() {
			t.Fatalf("saved %+v: want a positive id and a creation time", got)
		}
		saved = append(saved, got)
	}
	all, err := s.LogoutsAfter(ctx, 0, now, 100)
	mustNoErr(t, err, "list all")
	if len(all) != 3 {
		t.Fatalf("listed %d marks, want 3", len(all))
	}
	for i, l := range all {
		want := logoutFixture(now)[i]
		if l.ID != saved[i].ID || l.Issuer != want.Issuer || l.SID != want.SID || l.Subject != want.Subject ||
			l.ClientID != want.ClientID || l.SessionID != want.SessionID || l.JTI != want.JTI {
			t.Errorf("mark %d = %+v, want %+v", i, l, want)
		}
		sameTime(t, l.At, want.At, "At")
		sameTime(t, l.ExpiresAt, want.ExpiresAt, "ExpiresAt")
	}
	sameTime(t, all[2].CreatedAt, now, "CreatedAt")

	steps := []struct {
		name  string
		after int64
		now   time.Time
		limit int
		want  []int64
	}{
		{"after the first", saved[0].ID, now, 100, []int64{saved[1].ID, saved[2].ID}},
		{"limited", 0, now, 2, []int64{saved[0].ID, saved[1].ID}},
		{"expired ones left out", 0, now.Add(90 * time.Minute), 100, []int64{saved[1].ID}},
		{"nothing new", saved[2].ID, now, 100, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := s.LogoutsAfter(ctx, st.after, st.now, st.limit)
			mustNoErr(t, err, "list")
			var ids []int64
			for _, l := range got {
				ids = append(ids, l.ID)
			}
			if len(ids) != len(st.want) {
				t.Fatalf("ids = %v, want %v", ids, st.want)
			}
			for i := range ids {
				if ids[i] != st.want[i] {
					t.Fatalf("ids = %v, want %v", ids, st.want)
				}
			}
		})
	}
}

func testLogoutInvalid(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := baseTime()
	tests := []struct {
		name string
		l    storage.SessionLogout
	}{
		{"names nothing", storage.SessionLogout{At: now, ExpiresAt: now}},
		{"issuer alone", storage.SessionLogout{Issuer: "https://idp.example/", At: now, ExpiresAt: now}},
		{"session without client", storage.SessionLogout{SessionID: "web-1", At: now, ExpiresAt: now}},
		{"no time", storage.SessionLogout{Issuer: "https://idp.example/", SID: "s", ExpiresAt: now}},
		{"no expiry", storage.SessionLogout{ClientID: "c", SessionID: "s", At: now}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SaveLogout(ctx, tc.l)
			wantErr(t, err, storage.ErrInvalid, "save")
		})
	}
	_, err := s.LogoutsAfter(ctx, 0, now, 0)
	wantErr(t, err, storage.ErrInvalid, "list with limit 0")
}

func testLogoutDeleteExpired(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := baseTime()
	for _, l := range logoutFixture(now) {
		_, err := s.SaveLogout(ctx, l)
		mustNoErr(t, err, "save logout")
	}
	n, err := s.DeleteExpiredLogouts(ctx, now.Add(90*time.Minute))
	mustNoErr(t, err, "delete expired")
	if n != 2 {
		t.Errorf("deleted %d, want 2", n)
	}
	left, err := s.LogoutsAfter(ctx, 0, now, 100)
	mustNoErr(t, err, "list")
	if len(left) != 1 || left[0].Subject != "bob" {
		t.Errorf("left %+v, want bob's sub-wide logout", left)
	}
}
