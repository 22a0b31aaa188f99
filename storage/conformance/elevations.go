package conformance

import (
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func elevationTests() []subTest {
	return []subTest{
		{"ElevationLifecycle", testElevationLifecycle},
		{"ElevationRevoke", testElevationRevoke},
		{"ElevationErrors", testElevationErrors},
		{"ElevationDeleteExpired", testElevationDeleteExpired},
	}
}

func newElevation(client, session, sub, sid string, created time.Time) storage.SessionElevation {
	return storage.SessionElevation{ClientID: client, SessionID: session, Issuer: "https://idp.example/",
		Subject: sub, SID: sid, Methods: []string{"pwd", "otp", "mfa"}, ACR: "urn:mfa", AuthTime: created,
		DecisionID: "d-" + session, StepUpID: "tx-" + session, CreatedAt: created, ExpiresAt: created.Add(15 * time.Minute)}
}

func testElevationLifecycle(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	e := newElevation("app", "s1", "alice", "idp-sid", baseTime())
	mustNoErr(t, s.SaveElevation(ctx, e), "save")
	got, err := s.FindElevation(ctx, "app", "s1", baseTime().Add(time.Minute))
	mustNoErr(t, err, "find")
	if got.ClientID != "app" || got.SessionID != "s1" || got.Issuer != e.Issuer || got.Subject != "alice" ||
		got.SID != "idp-sid" || !slices.Equal(got.Methods, e.Methods) || got.ACR != e.ACR ||
		got.DecisionID != e.DecisionID || got.StepUpID != e.StepUpID {
		t.Errorf("found %+v, want %+v", got, e)
	}
	sameTime(t, got.AuthTime, e.AuthTime, "AuthTime")
	sameTime(t, got.CreatedAt, e.CreatedAt, "CreatedAt")
	sameTime(t, got.ExpiresAt, e.ExpiresAt, "ExpiresAt")
	for _, miss := range []struct {
		name, client, session string
		now                   time.Time
	}{
		{"other client", "other", "s1", baseTime()},
		{"other session", "app", "s2", baseTime()},
		{"at expiry", "app", "s1", e.ExpiresAt},
		{"after expiry", "app", "s1", e.ExpiresAt.Add(time.Second)},
	} {
		_, err := s.FindElevation(ctx, miss.client, miss.session, miss.now)
		wantErr(t, err, storage.ErrNotFound, miss.name)
	}
	later := newElevation("app", "s1", "alice", "idp-sid", baseTime().Add(20*time.Minute))
	later.Methods = []string{"hwk"}
	mustNoErr(t, s.SaveElevation(ctx, later), "replace")
	got, err = s.FindElevation(ctx, "app", "s1", baseTime().Add(21*time.Minute))
	mustNoErr(t, err, "find after replace")
	if !slices.Equal(got.Methods, []string{"hwk"}) {
		t.Errorf("after replace Methods = %v, want [hwk]", got.Methods)
	}
}

func testElevationRevoke(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	for _, e := range []storage.SessionElevation{
		newElevation("app", "s1", "alice", "sid-a", baseTime()),
		newElevation("app", "s2", "alice", "sid-b", baseTime()),
		newElevation("other", "s1", "alice", "sid-a", baseTime().Add(time.Minute)),
		newElevation("app", "s3", "bob", "sid-c", baseTime()),
	} {
		mustNoErr(t, s.SaveElevation(ctx, e), "save")
	}
	idp := "https://idp.example/"
	steps := []struct {
		name string
		f    storage.ElevationFilter
		want []string // client/session revoked
	}{
		{"created before spares later ones", storage.ElevationFilter{Issuer: idp, SID: "sid-a", CreatedBefore: baseTime().Add(time.Minute)}, []string{"app/s1"}},
		{"one session of a client", storage.ElevationFilter{ClientID: "other", SessionID: "s1"}, []string{"other/s1"}},
		{"nothing left to revoke", storage.ElevationFilter{ClientID: "other", SessionID: "s1"}, nil},
		{"every session of a user", storage.ElevationFilter{Issuer: idp, Subject: "alice"}, []string{"app/s2"}},
	}
	for _, st := range steps {
		gone, err := s.RevokeElevations(ctx, st.f)
		mustNoErr(t, err, st.name)
		var keys []string
		for _, e := range gone {
			keys = append(keys, e.ClientID+"/"+e.SessionID)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, st.want) {
			t.Fatalf("%s: revoked %v, want %v", st.name, keys, st.want)
		}
	}
	if _, err := s.FindElevation(ctx, "app", "s3", baseTime()); err != nil {
		t.Fatalf("bob's session was revoked too: %v", err)
	}
}

func testElevationErrors(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	noExpiry := newElevation("app", "s1", "alice", "sid", baseTime())
	noExpiry.ExpiresAt = time.Time{}
	for name, err := range map[string]error{
		"save without client":  s.SaveElevation(ctx, newElevation("", "s1", "alice", "sid", baseTime())),
		"save without session": s.SaveElevation(ctx, newElevation("app", "", "alice", "sid", baseTime())),
		"save without expiry":  s.SaveElevation(ctx, noExpiry),
		"revoke everything":    func() error { _, err := s.RevokeElevations(ctx, storage.ElevationFilter{}); return err }(),
		"revoke a client":      func() error { _, err := s.RevokeElevations(ctx, storage.ElevationFilter{ClientID: "app"}); return err }(),
		"revoke an issuer": func() error {
			_, err := s.RevokeElevations(ctx, storage.ElevationFilter{Issuer: "https://idp.example/"})
			return err
		}(),
	} {
		wantErr(t, err, storage.ErrInvalid, name)
	}
}

func testElevationDeleteExpired(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	mustNoErr(t, s.SaveElevation(ctx, newElevation("app", "old", "alice", "sid", baseTime().Add(-time.Hour))), "save old")
	mustNoErr(t, s.SaveElevation(ctx, newElevation("app", "new", "alice", "sid", baseTime())), "save new")
	n, err := s.DeleteExpiredElevations(ctx, baseTime())
	mustNoErr(t, err, "delete expired")
	if n != 1 {
		t.Errorf("deleted %d elevations, want 1", n)
	}
	if _, err := s.FindElevation(ctx, "app", "new", baseTime()); err != nil {
		t.Errorf("unexpired elevation was deleted: %v", err)
	}
	// FindElevation hides expired rows anyway; revoking shows the row is gone.
	gone, err := s.RevokeElevations(ctx, storage.ElevationFilter{ClientID: "app", SessionID: "old"})
	mustNoErr(t, err, "revoke the deleted one")
	if len(gone) != 0 {
		t.Errorf("the expired elevation survived the sweep: %+v", gone)
	}
}
