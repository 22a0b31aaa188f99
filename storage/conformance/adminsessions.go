package conformance

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func adminSessionTests() []subTest {
	return []subTest{{"AdminSessions", testAdminSessions}}
}

func testAdminSessions(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := baseTime()
	_, err := s.GetAdminSession(ctx, "missing")
	wantErr(t, err, storage.ErrNotFound, "get unknown session")
	wantErr(t, s.PutAdminSession(ctx, "", []byte("x"), now), storage.ErrInvalid, "put with an empty key")
	for key, exp := range map[string]time.Time{"live": now.Add(time.Hour), "stale": now.Add(-time.Second), "edge": now} {
		mustNoErr(t, s.PutAdminSession(ctx, key, []byte(`{"user":"`+key+`"}`), exp), "put "+key)
	}
	// Put replaces data and expiry (a refreshed or re-authenticated session).
	mustNoErr(t, s.PutAdminSession(ctx, "stale", []byte(`{"user":"stale2"}`), now.Add(-time.Minute)), "replace")
	if got, err := s.GetAdminSession(ctx, "stale"); err != nil || string(got) != `{"user":"stale2"}` {
		t.Fatalf("after replace: %q, %v", got, err)
	}
	// Expiry is the caller's business until the sweep: get still returns it.
	if _, err := s.GetAdminSession(ctx, "stale"); err != nil {
		t.Fatalf("get expired session before the sweep: %v", err)
	}
	n, err := s.DeleteExpiredAdminSessions(ctx, now)
	mustNoErr(t, err, "sweep")
	if n != 1 {
		t.Fatalf("sweep deleted %d, want only the session that expired before now", n)
	}
	for key, alive := range map[string]bool{"live": true, "edge": true, "stale": false} {
		_, err := s.GetAdminSession(ctx, key)
		if alive != (err == nil) {
			t.Errorf("after sweep %s: %v, alive want %v", key, err, alive)
		}
	}
	mustNoErr(t, s.DeleteAdminSession(ctx, "live"), "delete")
	mustNoErr(t, s.DeleteAdminSession(ctx, "live"), "delete twice")
	_, err = s.GetAdminSession(ctx, "live")
	wantErr(t, err, storage.ErrNotFound, "get deleted session")
}
