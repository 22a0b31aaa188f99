package sqlstore_test

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// TestAdminSessions runs the admin session methods (admin.SessionStore)
// on every backend.
func TestAdminSessions(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			s := b.Open(t)
			ctx := t.Context()
			now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

			if _, err := s.GetAdminSession(ctx, "missing"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("get unknown session: %v, want ErrNotFound", err)
			}
			if err := s.PutAdminSession(ctx, "", []byte("x"), now); !errors.Is(err, storage.ErrInvalid) {
				t.Fatalf("put with an empty key: %v, want ErrInvalid", err)
			}
			for key, exp := range map[string]time.Time{"live": now.Add(time.Hour), "stale": now.Add(-time.Second), "edge": now} {
				if err := s.PutAdminSession(ctx, key, []byte(`{"user":"`+key+`"}`), exp); err != nil {
					t.Fatalf("put %s: %v", key, err)
				}
			}
			// Put replaces data and expiry (a refreshed or re-authenticated session).
			if err := s.PutAdminSession(ctx, "stale", []byte(`{"user":"stale2"}`), now.Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got, err := s.GetAdminSession(ctx, "stale"); err != nil || string(got) != `{"user":"stale2"}` {
				t.Fatalf("after replace: %q, %v", got, err)
			}
			n, err := s.DeleteExpiredAdminSessions(ctx, now)
			if err != nil || n != 1 {
				t.Fatalf("sweep: %d deleted, %v; want only the session that expired before now", n, err)
			}
			for key, alive := range map[string]bool{"live": true, "edge": true, "stale": false} {
				_, err := s.GetAdminSession(ctx, key)
				if alive != (err == nil) {
					t.Errorf("after sweep %s: %v, alive want %v", key, err, alive)
				}
			}
			if err := s.DeleteAdminSession(ctx, "live"); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteAdminSession(ctx, "live"); err != nil {
				t.Fatalf("deleting twice: %v", err)
			}
			if _, err := s.GetAdminSession(ctx, "live"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("deleted session: %v", err)
			}
		})
	}
}

// TestAuditStats runs the dashboard aggregations (admin.AuditStats) on
// every backend.
func TestAuditStats(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			s := b.Open(t)
			ctx := t.Context()
			since := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
			var recs []storage.AuditRecord
			add := func(at time.Duration, kind, action, outcome string) {
				recs = append(recs, storage.AuditRecord{ChainID: "c", Time: since.Add(at), Kind: kind, Action: action, Outcome: outcome})
			}
			add(-time.Minute, storage.KindDecision, "a", "allow") // before the window
			add(0, storage.KindDecision, "a", "allow")            // first instant of bucket 0
			add(59*time.Minute, storage.KindDecision, "a", "deny")
			add(time.Hour, storage.KindDecision, "b", "allow") // bucket 1
			add(90*time.Minute, storage.KindDecision, "b", "step_up")
			add(90*time.Minute, storage.KindStepUp, "b", "verified")
			add(3*time.Hour, storage.KindDecision, "a", "allow") // until is exclusive
			if err := s.AppendAudit(ctx, recs); err != nil {
				t.Fatal(err)
			}
			until := since.Add(3 * time.Hour)

			buckets, err := s.CountAuditBuckets(ctx, storage.KindDecision, since, until, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int64]map[string]int64{
				since.Unix():                {"allow": 1, "deny": 1},
				since.Add(time.Hour).Unix(): {"allow": 1, "step_up": 1},
			}
			if !maps.EqualFunc(buckets, want, maps.Equal) {
				t.Fatalf("buckets %v, want %v", buckets, want)
			}
			byAction, err := s.CountAuditByAction(ctx, storage.KindDecision, since, until)
			if err != nil {
				t.Fatal(err)
			}
			wantActions := map[string]map[string]int64{"a": {"allow": 1, "deny": 1}, "b": {"allow": 1, "step_up": 1}}
			if !maps.EqualFunc(byAction, wantActions, maps.Equal) {
				t.Fatalf("by action %v, want %v", byAction, wantActions)
			}
			follow, err := s.CountAuditByAction(ctx, storage.KindStepUp, since, until)
			if err != nil || follow["b"]["verified"] != 1 || len(follow) != 1 {
				t.Fatalf("step-up follow-ups %v, %v", follow, err)
			}
			if _, err := s.CountAuditBuckets(ctx, storage.KindDecision, since, until, 0); !errors.Is(err, storage.ErrInvalid) {
				t.Fatalf("zero bucket: %v, want ErrInvalid", err)
			}
			if empty, err := s.CountAuditBuckets(ctx, storage.KindCIBA, since, until, time.Hour); err != nil || len(empty) != 0 {
				t.Fatalf("no records of a kind: %v, %v", empty, err)
			}
		})
	}
}
