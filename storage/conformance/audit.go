package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// decision builds a decision record on chain, n seconds after baseTime.
func decision(chain string, n int) storage.AuditRecord {
	return storage.AuditRecord{
		ChainID: chain, Time: baseTime().Add(time.Duration(n) * time.Second), Kind: storage.KindDecision,
		DecisionID: fmt.Sprintf("dec-%s-%d", chain, n), RequestID: fmt.Sprintf("req-%d", n),
		ClientID: []string{"billing-svc", "shop"}[n%2], Subject: fmt.Sprintf("user-%d", n%3),
		Issuer: "https://idp.example/", Action: []string{"billing.view", "billing.pay", "profile.update"}[n%3],
		ResourceType: "invoice", ResourceID: fmt.Sprintf("inv_%d", n),
		Outcome: []string{"allow", "deny", "step_up", "ciba"}[n%4], Reasons: []string{"r1", fmt.Sprintf("r2-%d", n)},
		PolicyRevision: int64(1 + n%2), PolicyHash: "phash", LatencyMicros: int64(100 + n),
		Input: []byte(fmt.Sprintf(`{"action":{"name":"x"},"n":%d}`, n)), InputDigest: "idigest",
		StepUpID: "su", CIBAID: "",
	}
}

func appendAll(t testing.TB, s storage.Store, recs ...storage.AuditRecord) []storage.AuditRecord {
	t.Helper()
	mustNoErr(t, s.AppendAudit(ctxFor(t), recs), "append audit")
	return recs
}

func auditTests() []subTest {
	return []subTest{
		{"AuditAppendChains", testAuditAppendChains},
		{"AuditAppendChunks", testAuditAppendChunks},
		{"AuditAppendInvalid", testAuditAppendInvalid},
		{"AuditRoundTrip", testAuditRoundTrip},
		{"AuditVerifyClean", testAuditVerifyClean},
	}
}

func testAuditAppendChains(t *testing.T, s storage.Store) {
	first := appendAll(t, s, decision("a", 1), decision("b", 2), decision("a", 3))
	second := appendAll(t, s, decision("a", 4), decision("b", 5))
	all := append(slices.Clone(first), second...)
	want := []struct {
		chain string
		seq   int64
	}{{"a", 1}, {"b", 1}, {"a", 2}, {"a", 3}, {"b", 2}}
	prev := map[string]string{}
	for i, r := range all {
		if r.ChainID != want[i].chain || r.Seq != want[i].seq {
			t.Errorf("record %d is %s/%d, want %s/%d", i, r.ChainID, r.Seq, want[i].chain, want[i].seq)
		}
		if r.ID <= 0 {
			t.Errorf("record %d has no id", i)
		}
		if r.PrevHash != prev[r.ChainID] {
			t.Errorf("record %d prev hash %q, want %q", i, r.PrevHash, prev[r.ChainID])
		}
		if r.Hash != storage.ComputeAuditHash(r) || len(r.Hash) != 64 {
			t.Errorf("record %d hash %q is not the canonical hash", i, r.Hash)
		}
		prev[r.ChainID] = r.Hash
	}
	mustNoErr(t, s.AppendAudit(ctxFor(t), nil), "append empty batch")
}

func testAuditAppendInvalid(t *testing.T, s storage.Store) {
	tests := []struct {
		name string
		rec  storage.AuditRecord
	}{
		{"no chain", storage.AuditRecord{Kind: storage.KindDecision}},
		{"no kind", storage.AuditRecord{ChainID: "a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.AppendAudit(ctxFor(t), []storage.AuditRecord{decision("a", 1), tc.rec})
			wantErr(t, err, storage.ErrInvalid, "append "+tc.name)
		})
	}
	page, err := s.SearchAudit(ctxFor(t), storage.AuditQuery{})
	mustNoErr(t, err, "search")
	if len(page.Records) != 0 {
		t.Errorf("a rejected batch left %d records", len(page.Records))
	}
}

// testAuditAppendChunks appends one batch larger than any backend's rows
// per INSERT statement, with three chains interleaved, and checks that the
// id written back to every record is the id it is stored under.
func testAuditAppendChunks(t *testing.T, s storage.Store) {
	var recs []storage.AuditRecord
	for n := range 300 {
		recs = append(recs, decision([]string{"a", "b", "c"}[(n*n)%3], n))
	}
	appendAll(t, s, recs...)
	byDecision := map[string]storage.AuditRecord{}
	ids := map[int64]bool{}
	for _, r := range recs {
		byDecision[r.DecisionID] = r
		if r.ID <= 0 || ids[r.ID] {
			t.Fatalf("record %s/%d got id %d (missing or repeated)", r.ChainID, r.Seq, r.ID)
		}
		ids[r.ID] = true
	}
	n := 0
	mustNoErr(t, s.ExportAudit(ctxFor(t), storage.AuditQuery{ChainOrder: true}, func(got storage.AuditRecord) error {
		n++
		want, ok := byDecision[got.DecisionID]
		if !ok {
			t.Fatalf("exported an unknown record %q", got.DecisionID)
		}
		assertAuditEqual(t, got, want)
		return nil
	}), "export")
	if n != len(recs) {
		t.Fatalf("exported %d records, want %d", n, len(recs))
	}
}

func testAuditRoundTrip(t *testing.T, s storage.Store) {
	in := decision("a", 7)
	in.Kind, in.Actor, in.Detail = storage.KindAdmin, "admin@example", []byte(`{"change":"activate","revision":3}`)
	in.Subject = "bad\x00utf8\xff" // stored as valid UTF-8 without NUL, and hashed that way
	wrote := appendAll(t, s, in)[0]
	if wrote.Subject != "bad\uFFFDutf8\uFFFD" {
		t.Errorf("sanitised subject = %q", wrote.Subject)
	}
	zero := appendAll(t, s, storage.AuditRecord{ChainID: "a", Kind: storage.KindDecision})[0]
	if zero.Time.IsZero() {
		t.Errorf("zero time was not defaulted to now")
	}
	var got []storage.AuditRecord
	mustNoErr(t, s.ExportAudit(ctxFor(t), storage.AuditQuery{ChainOrder: true}, func(r storage.AuditRecord) error {
		got = append(got, r)
		return nil
	}), "export")
	if len(got) != 2 {
		t.Fatalf("exported %d records, want 2", len(got))
	}
	assertAuditEqual(t, got[0], wrote)
	assertAuditEqual(t, got[1], zero)
	if got[0].Hash != storage.ComputeAuditHash(got[0]) {
		t.Errorf("read-back record does not hash to its stored hash")
	}
}

func testAuditVerifyClean(t *testing.T, s storage.Store) {
	rep, err := s.VerifyAudit(ctxFor(t))
	mustNoErr(t, err, "verify empty")
	if !rep.OK || rep.Checked != 0 {
		t.Errorf("empty trail report = %+v, want OK with 0 checked", rep)
	}
	for i := range 5 {
		appendAll(t, s, decision("a", 3*i), decision("b", 3*i+1), decision("c", 3*i+2))
	}
	rep, err = s.VerifyAudit(ctxFor(t))
	mustNoErr(t, err, "verify")
	if !rep.OK || rep.Checked != 15 || rep.Chains != 3 || rep.FirstBroken != nil {
		t.Errorf("report = %+v (broken %+v), want OK, 15 records in 3 chains", rep, rep.FirstBroken)
	}
	// The heads and positions the signed checkpoints are made from.
	heads, err := s.AuditHeads(ctxFor(t))
	mustNoErr(t, err, "audit heads")
	if len(heads) != 3 || heads[0].ChainID != "a" || heads[0].Seq != 5 || heads[2].ChainID != "c" {
		t.Fatalf("heads = %+v, want a, b and c at seq 5", heads)
	}
	h, err := s.AuditHashAt(ctxFor(t), "a", 5)
	mustNoErr(t, err, "audit hash at")
	if h != heads[0].Hash {
		t.Errorf("hash of a/5 = %q, head says %q", h, heads[0].Hash)
	}
	if _, err := s.AuditHashAt(ctxFor(t), "a", 6); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("hash of a missing record: %v, want ErrNotFound", err)
	}
}

func assertAuditEqual(t testing.TB, got, want storage.AuditRecord) {
	t.Helper()
	gotCanon, wantCanon := storage.CanonicalAudit(got), storage.CanonicalAudit(want)
	if !bytes.Equal(gotCanon, wantCanon) || got.ID != want.ID || got.Hash != want.Hash {
		t.Errorf("record mismatch:\n got %q (id %d hash %s)\nwant %q (id %d hash %s)",
			gotCanon, got.ID, got.Hash, wantCanon, want.ID, want.Hash)
	}
	if got.Time.Location() != time.UTC {
		t.Errorf("record time location = %v, want UTC", got.Time.Location())
	}
}
