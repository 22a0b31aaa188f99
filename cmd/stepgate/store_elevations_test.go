package main

import (
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/pdptest"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

type elevationContract interface {
	session.ElevationStore
	session.ElevationRevoker
}

func elevation(client, sessionID, sub, sid string, created time.Time) session.Elevation {
	return session.Elevation{ClientID: client, SessionID: sessionID, Issuer: "https://idp.example/", Subject: sub, SID: sid,
		Methods: []string{"pwd", "otp", "mfa"}, ACR: trust.PAPEMultiFactor, AuthTime: created, DecisionID: "d-" + sessionID,
		StepUpID: "tx-" + sessionID, CreatedAt: created, ExpiresAt: created.Add(15 * time.Minute)}
}

func TestElevations(t *testing.T) {
	stores := []struct {
		name    string
		require func(testing.TB)
		open    func(testing.TB) elevationContract
	}{{"memory", func(testing.TB) {}, func(testing.TB) elevationContract { return pdptest.NewElevations() }}}
	for _, b := range sqlstoretest.Backends() {
		stores = append(stores, struct {
			name    string
			require func(testing.TB)
			open    func(testing.TB) elevationContract
		}{b.Name, b.Require, func(t testing.TB) elevationContract { return elevationStore{Backend: b.Open(t)} }})
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			st.require(t)
			t.Run("save, find, expire, replace", func(t *testing.T) { testElevationLifecycle(t, st.open(t)) })
			t.Run("revoke by filter", func(t *testing.T) { testElevationRevoke(t, st.open(t)) })
		})
	}
}

func testElevationLifecycle(t *testing.T, s elevationContract) {
	ctx := t.Context()
	e := elevation("app", "s1", "alice", "idp-sid", base)
	if err := s.SaveElevation(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindElevation(ctx, "app", "s1", base.Add(time.Minute))
	if err != nil || got.Subject != "alice" || got.SID != "idp-sid" || !slices.Equal(got.Methods, e.Methods) ||
		!got.AuthTime.Equal(base) || !got.ExpiresAt.Equal(e.ExpiresAt) || got.StepUpID != "tx-s1" {
		t.Fatalf("find = %+v, %v", got, err)
	}
	for name, q := range map[string][3]any{
		"other client":  {"other", "s1", base},
		"other session": {"app", "s2", base},
		"at expiry":     {"app", "s1", e.ExpiresAt},
		"after expiry":  {"app", "s1", e.ExpiresAt.Add(time.Second)},
	} {
		if _, err := s.FindElevation(ctx, q[0].(string), q[1].(string), q[2].(time.Time)); !errors.Is(err, session.ErrNoElevation) {
			t.Errorf("%s: %v, want ErrNoElevation", name, err)
		}
	}
	later := elevation("app", "s1", "alice", "idp-sid", base.Add(20*time.Minute))
	later.Methods = []string{"hwk"}
	if err := s.SaveElevation(ctx, later); err != nil {
		t.Fatalf("replace: %v", err)
	}
	got, err = s.FindElevation(ctx, "app", "s1", base.Add(21*time.Minute))
	if err != nil || !slices.Equal(got.Methods, []string{"hwk"}) {
		t.Fatalf("after replace = %+v, %v", got, err)
	}
}

func testElevationRevoke(t *testing.T, s elevationContract) {
	ctx := t.Context()
	for _, e := range []session.Elevation{
		elevation("app", "s1", "alice", "sid-a", base),
		elevation("app", "s2", "alice", "sid-b", base),
		elevation("other", "s1", "alice", "sid-a", base.Add(time.Minute)),
		elevation("app", "s3", "bob", "sid-c", base),
	} {
		if err := s.SaveElevation(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name string
		f    session.ElevationFilter
		want []string // client/session revoked
	}{
		{"created before spares later ones", session.ElevationFilter{Issuer: "https://idp.example/", SID: "sid-a", CreatedBefore: base.Add(time.Minute)}, []string{"app/s1"}},
		{"one session of a client", session.ElevationFilter{ClientID: "other", SessionID: "s1"}, []string{"other/s1"}},
		{"nothing left to revoke", session.ElevationFilter{ClientID: "other", SessionID: "s1"}, nil},
		{"every session of a user", session.ElevationFilter{Issuer: "https://idp.example/", Subject: "alice"}, []string{"app/s2"}},
	}
	for _, st := range steps {
		gone, err := s.RevokeElevations(ctx, st.f)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var keys []string
		for _, e := range gone {
			keys = append(keys, e.ClientID+"/"+e.SessionID)
		}
		sort.Strings(keys)
		if !slices.Equal(keys, st.want) {
			t.Fatalf("%s: revoked %v, want %v", st.name, keys, st.want)
		}
	}
	if _, err := s.FindElevation(ctx, "app", "s3", base); err != nil {
		t.Fatalf("bob's session was revoked too: %v", err)
	}
}
