package conformance

import (
	"maps"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func auditStatsTests() []subTest {
	return []subTest{
		{"AuditStats", testAuditStats},
		{"AuditCheckpointWAL", testAuditCheckpointWAL},
	}
}

func testAuditStats(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
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
	mustNoErr(t, s.AppendAudit(ctx, recs), "append")
	until := since.Add(3 * time.Hour)

	buckets, err := s.CountAuditBuckets(ctx, storage.KindDecision, since, until, time.Hour)
	mustNoErr(t, err, "count buckets")
	want := map[int64]map[string]int64{
		since.Unix():                {"allow": 1, "deny": 1},
		since.Add(time.Hour).Unix(): {"allow": 1, "step_up": 1},
	}
	if !maps.EqualFunc(buckets, want, maps.Equal) {
		t.Errorf("buckets %v, want %v", buckets, want)
	}
	byAction, err := s.CountAuditByAction(ctx, storage.KindDecision, since, until)
	mustNoErr(t, err, "count by action")
	wantActions := map[string]map[string]int64{"a": {"allow": 1, "deny": 1}, "b": {"allow": 1, "step_up": 1}}
	if !maps.EqualFunc(byAction, wantActions, maps.Equal) {
		t.Errorf("by action %v, want %v", byAction, wantActions)
	}
	follow, err := s.CountAuditByAction(ctx, storage.KindStepUp, since, until)
	if err != nil || follow["b"]["verified"] != 1 || len(follow) != 1 {
		t.Errorf("step-up follow-ups %v, %v", follow, err)
	}
	_, err = s.CountAuditBuckets(ctx, storage.KindDecision, since, until, 0)
	wantErr(t, err, storage.ErrInvalid, "zero bucket")
	if empty, err := s.CountAuditBuckets(ctx, storage.KindCIBA, since, until, time.Hour); err != nil || len(empty) != 0 {
		t.Errorf("no records of a kind: %v, %v", empty, err)
	}
}

// testAuditCheckpointWAL checks that a checkpoint, whatever the backend
// does for it, succeeds beside appends and loses nothing.
func testAuditCheckpointWAL(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	mustNoErr(t, s.CheckpointWAL(ctx), "checkpoint an empty store")
	appendAll(t, s, decision("c", 1), decision("c", 2))
	mustNoErr(t, s.CheckpointWAL(ctx), "checkpoint after appends")
	appendAll(t, s, decision("c", 3))
	page, err := s.SearchAudit(ctx, storage.AuditQuery{Limit: 10})
	mustNoErr(t, err, "search")
	if len(page.Records) != 3 {
		t.Errorf("found %d records after checkpoints, want 3", len(page.Records))
	}
	assertVerifies(t, s)
}
