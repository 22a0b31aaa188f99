package session_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/session"
)

const testIssuer = "https://idp.example/"

// logoutClock is a settable clock for the index.
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

func record(t testing.TB, l *session.Logouts, m session.Logout) {
	t.Helper()
	if _, err := l.Record(t.Context(), m); err != nil {
		t.Fatal(err)
	}
}

func TestLogoutsEnded(t *testing.T) {
	t0 := time.Date(2025, 11, 20, 10, 0, 0, 0, time.UTC)
	clk := &logoutClock{now: t0}
	l := newLogouts(t, pdptest.NewLogouts(), clk)
	record(t, l, session.Logout{Issuer: testIssuer, SID: "sid-1", Subject: "alice", JTI: "j1", At: t0})
	record(t, l, session.Logout{Issuer: testIssuer, Subject: "bob", JTI: "j2", At: t0})
	record(t, l, session.Logout{ClientID: "billing-svc", SessionID: "web-42", At: t0.Add(500 * time.Millisecond)})
	before, after := t0.Add(-time.Hour).Unix(), t0.Add(time.Minute).Unix()
	tests := []struct {
		name string
		ref  session.SessionRef
		want string // substring of the reason; "" = not ended
	}{
		{"sid, login before", session.SessionRef{Issuer: testIssuer, SID: "sid-1", Login: before, HasLogin: true}, `session "sid-1" was ended by a back-channel logout from ` + testIssuer + " at 2025-11-20T10:00:00Z"},
		{"sid, no login time", session.SessionRef{Issuer: testIssuer, SID: "sid-1"}, "back-channel logout"},
		{"sid, login after", session.SessionRef{Issuer: testIssuer, SID: "sid-1", Login: after, HasLogin: true}, ""},
		{"sid, login in the same second", session.SessionRef{Issuer: testIssuer, SID: "sid-1", Login: t0.Unix(), HasLogin: true}, ""},
		{"another sid of the user", session.SessionRef{Issuer: testIssuer, SID: "sid-2", Subject: "alice", Login: before, HasLogin: true}, ""},
		{"the sid at another issuer", session.SessionRef{Issuer: "https://other.example/", SID: "sid-1", Login: before, HasLogin: true}, ""},
		{"sub-wide, any session", session.SessionRef{Issuer: testIssuer, SID: "x", Subject: "bob", Login: before, HasLogin: true}, `every session of "bob"`},
		{"sub-wide, login after", session.SessionRef{Issuer: testIssuer, Subject: "bob", Login: after, HasLogin: true}, ""},
		{"sub at another issuer", session.SessionRef{Issuer: "https://other.example/", Subject: "bob", Login: before, HasLogin: true}, ""},
		{"revoked session", session.SessionRef{ClientID: "billing-svc", SessionID: "web-42", Login: before, HasLogin: true}, `session "web-42" was ended by client billing-svc`},
		{"revoked session, login within the skew", session.SessionRef{ClientID: "billing-svc", SessionID: "web-42", Login: t0.Add(3 * time.Second).Unix(), HasLogin: true}, "client billing-svc"},
		{"revoked session, login after", session.SessionRef{ClientID: "billing-svc", SessionID: "web-42", Login: t0.Add(10 * time.Second).Unix(), HasLogin: true}, ""},
		{"same session id, another client", session.SessionRef{ClientID: "other-svc", SessionID: "web-42", Login: before, HasLogin: true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			why, ended := l.Ended(tc.ref)
			if ended != (tc.want != "") || !strings.Contains(why, tc.want) {
				t.Fatalf("Ended = %v %q, want %q", ended, why, tc.want)
			}
		})
	}
}

func TestLogoutsKeepLatestPerKey(t *testing.T) {
	t0 := time.Date(2025, 11, 20, 10, 0, 0, 0, time.UTC)
	l := newLogouts(t, pdptest.NewLogouts(), &logoutClock{now: t0})
	record(t, l, session.Logout{Issuer: testIssuer, Subject: "bob", At: t0})
	record(t, l, session.Logout{Issuer: testIssuer, Subject: "bob", At: t0.Add(-time.Hour)}) // a late, older one
	ref := session.SessionRef{Issuer: testIssuer, Subject: "bob", Login: t0.Add(-time.Minute).Unix(), HasLogin: true}
	if _, ended := l.Ended(ref); !ended {
		t.Fatal("an older logout arriving later undid a newer one")
	}
	if l.Len() != 1 {
		t.Fatalf("Len = %d, want 1 entry per user", l.Len())
	}
}

func TestLogoutsExpire(t *testing.T) {
	t0 := time.Date(2025, 11, 20, 10, 0, 0, 0, time.UTC)
	clk := &logoutClock{now: t0}
	store := pdptest.NewLogouts()
	l := newLogouts(t, store, clk)
	record(t, l, session.Logout{Issuer: testIssuer, SID: "sid-1", At: t0})
	ref := session.SessionRef{Issuer: testIssuer, SID: "sid-1"}
	clk.now = t0.Add(23 * time.Hour)
	if err := l.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ended := l.Ended(ref); !ended {
		t.Fatal("the mark was forgotten before its retention ended")
	}
	clk.now = t0.Add(25 * time.Hour)
	if err := l.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ended := l.Ended(ref); ended || l.Len() != 0 {
		t.Fatalf("the mark outlived its retention (Len %d)", l.Len())
	}
	// A restart does not bring it back.
	if l2 := newLogouts(t, store, clk); l2.Len() != 0 {
		t.Fatalf("a restarted index loaded %d expired marks", l2.Len())
	}
}

// TestLogoutsSync: a second replica on the same store sees marks the
// first one recorded, also one whose transaction committed after a later
// one, and a restart loads them all.
func TestLogoutsSync(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	clk := &logoutClock{now: t0}
	store := pdptest.NewLogouts()
	r1, r2 := newLogouts(t, store, clk), newLogouts(t, store, clk)
	record(t, r1, session.Logout{Issuer: testIssuer, SID: "sid-1", At: t0})
	ref := func(sid string) session.SessionRef {
		return session.SessionRef{Issuer: testIssuer, SID: sid, Login: t0.Add(-time.Hour).Unix(), HasLogin: true}
	}
	if _, ended := r2.Ended(ref("sid-1")); ended {
		t.Fatal("replica 2 knew the mark before syncing (test is wrong)")
	}
	sync := func() {
		t.Helper()
		if err := r2.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	if _, ended := r2.Ended(ref("sid-1")); !ended {
		t.Fatal("replica 2 did not pick up replica 1's logout")
	}
	// ID 3 commits first, ID 2 (taken earlier) a moment later.
	exp := t0.Add(time.Hour)
	store.Insert(session.Logout{ID: 3, Issuer: testIssuer, SID: "sid-3", At: t0, CreatedAt: t0, ExpiresAt: exp})
	sync()
	store.Insert(session.Logout{ID: 2, Issuer: testIssuer, SID: "sid-2", At: t0, CreatedAt: t0, ExpiresAt: exp})
	sync()
	for _, sid := range []string{"sid-2", "sid-3"} {
		if _, ended := r2.Ended(ref(sid)); !ended {
			t.Errorf("replica 2 missed the logout of %s", sid)
		}
	}
	if r3 := newLogouts(t, store, clk); r3.Len() != 3 {
		t.Fatalf("a restarted replica loaded %d marks, want 3", r3.Len())
	}
}

func TestLogoutsStoreDown(t *testing.T) {
	store := pdptest.NewLogouts()
	store.Fail = errors.New("database is down")
	l, err := session.NewLogouts(session.LogoutsConfig{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Load(t.Context()); err == nil {
		t.Fatal("Load succeeded without the store: the index would start empty and let ended sessions in")
	}
	if _, err := l.Record(t.Context(), session.Logout{Issuer: testIssuer, SID: "s", At: time.Now()}); err == nil {
		t.Fatal("Record succeeded without storing the mark")
	}
	if l.Len() != 0 {
		t.Fatal("a mark that was not stored was applied")
	}
}
