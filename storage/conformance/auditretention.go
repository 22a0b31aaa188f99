package conformance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func auditRetentionTests() []subTest {
	return []subTest{{"AuditRetention", testAuditRetention}}
}

func testAuditRetention(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	// Chain a spans 0..9 s, chain b only 0..3 s: a cut at 5 s trims a's
	// prefix and empties b apart from its checkpoint.
	for i := range 10 {
		appendAll(t, s, decision("a", i))
	}
	for i := range 4 {
		appendAll(t, s, decision("b", i))
	}
	steps := []struct {
		name        string
		before      time.Duration
		wantDeleted int64
	}{
		{"nothing older", -time.Hour, 0},
		{"trim prefix", 5 * time.Second, 5 + 4},
		{"same cut again", 5 * time.Second, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			n, err := s.DeleteAuditBefore(ctx, baseTime().Add(st.before))
			mustNoErr(t, err, "delete before")
			if n != st.wantDeleted {
				t.Errorf("deleted %d, want %d", n, st.wantDeleted)
			}
			assertVerifies(t, s)
		})
	}
	page, err := s.SearchAudit(ctx, storage.AuditQuery{Kind: storage.KindCheckpoint})
	mustNoErr(t, err, "search checkpoints")
	if len(page.Records) != 2 {
		t.Fatalf("found %d checkpoints, want one per trimmed chain", len(page.Records))
	}
	for _, cp := range page.Records {
		var detail storage.Checkpoint
		mustNoErr(t, json.Unmarshal(cp.Detail, &detail), "decode checkpoint")
		want := map[string]int64{"a": 5, "b": 4}[cp.ChainID]
		if detail.DeletedThroughSeq != want || detail.Deleted != want || detail.DeletedThroughHash == "" {
			t.Errorf("checkpoint on %s = %+v, want deleted through %d", cp.ChainID, detail, want)
		}
	}

	// The chains go on after the checkpoints, and a later cut that removes
	// the first checkpoint itself still verifies through the second.
	appendAll(t, s, decision("a", 20), decision("b", 21))
	assertVerifies(t, s)
	if _, err := s.DeleteAuditBefore(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("delete everything older than now: %v", err)
	}
	assertVerifies(t, s)
}

func assertVerifies(t testing.TB, s storage.Store) {
	t.Helper()
	rep, err := s.VerifyAudit(ctxFor(t))
	mustNoErr(t, err, "verify")
	if !rep.OK {
		t.Fatalf("verify failed: %+v", rep.FirstBroken)
	}
}
