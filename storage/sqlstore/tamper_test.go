package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// tamperFixture appends five records on each of the chains a and b and
// returns chain a's records by sequence number (index 0 is seq 1).
func tamperFixture(t testing.TB, s *sqlstore.Store) []storage.AuditRecord {
	t.Helper()
	var a []storage.AuditRecord
	for i := range 5 {
		recs := []storage.AuditRecord{fixtureRecord("a", i), fixtureRecord("b", i)}
		if err := s.AppendAudit(t.Context(), recs); err != nil {
			t.Fatalf("append: %v", err)
		}
		a = append(a, recs[0])
	}
	return a
}

func fixtureRecord(chain string, i int) storage.AuditRecord {
	return storage.AuditRecord{
		ChainID: chain, Kind: storage.KindDecision, Time: time.Unix(1763700000+int64(i), 0),
		DecisionID: fmt.Sprintf("dec-%s-%d", chain, i), ClientID: "billing-svc", Subject: "user-1",
		Action: "billing.pay", Outcome: "deny", Reasons: []string{"needs mfa"}, Input: []byte(`{}`),
	}
}

const insertAudit = `INSERT INTO audit_records (chain_id, seq, ts, kind, decision_id, outcome, reasons, prev_hash, hash)
	VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?)`

func TestVerifyNamesTampering(t *testing.T) {
	tests := []struct {
		name       string
		tamper     func(t testing.TB, s *sqlstore.Store, a []storage.AuditRecord)
		wantChain  string
		wantSeq    int64
		wantReason string
	}{
		{"edited content", func(t testing.TB, s *sqlstore.Store, a []storage.AuditRecord) {
			exec(t, s, `UPDATE audit_records SET outcome = 'allow' WHERE chain_id = 'a' AND seq = 3`)
		}, "a", 3, "hash mismatch"},
		{"edited content with a recomputed hash", func(t testing.TB, s *sqlstore.Store, a []storage.AuditRecord) {
			forged := a[2]
			forged.Outcome = "allow"
			exec(t, s, `UPDATE audit_records SET outcome = 'allow', hash = ? WHERE chain_id = 'a' AND seq = 3`,
				storage.ComputeAuditHash(forged))
		}, "a", 4, "prev hash"},
		{"deleted middle record", func(t testing.TB, s *sqlstore.Store, a []storage.AuditRecord) {
			exec(t, s, `DELETE FROM audit_records WHERE chain_id = 'a' AND seq = 3`)
		}, "a", 4, "gap"},
		{"deleted first record", func(t testing.TB, s *sqlstore.Store, a []storage.AuditRecord) {
			exec(t, s, `DELETE FROM audit_records WHERE chain_id = 'a' AND seq = 1`)
		}, "a", 2, "no checkpoint"},
		{"deleted last record", func(t testing.TB, s *sqlstore.Store, a []storage.AuditRecord) {
			exec(t, s, `DELETE FROM audit_records WHERE chain_id = 'a' AND seq = 5`)
		}, "a", 5, "missing"},
		{"inserted record after the head", func(t testing.TB, s *sqlstore.Store, a []storage.AuditRecord) {
			forged := fixtureRecord("a", 9)
			forged.Seq, forged.PrevHash = 6, a[4].Hash
			forged.Time = storage.NormalizeTime(forged.Time)
			forged.Reasons, forged.Input, forged.ClientID, forged.Subject, forged.Action = nil, nil, "", "", ""
			exec(t, s, insertAudit, "a", 6, forged.Time.UnixMicro(), forged.Kind, forged.DecisionID,
				forged.Outcome, forged.PrevHash, storage.ComputeAuditHash(forged))
		}, "a", 6, "inserted"},
		{"inserted record on a new chain", func(t testing.TB, s *sqlstore.Store, a []storage.AuditRecord) {
			exec(t, s, insertAudit, "evil", 1, a[0].Time.UnixMicro(), "decision", "dec-evil", "allow", "", "0000")
		}, "evil", 1, "hash mismatch"},
		{"inserted well-formed chain without a head", func(t testing.TB, s *sqlstore.Store, a []storage.AuditRecord) {
			forged := storage.AuditRecord{ChainID: "evil", Seq: 1, Time: a[0].Time, Kind: "decision",
				DecisionID: "dec-evil", Outcome: "allow"}
			exec(t, s, insertAudit, "evil", 1, forged.Time.UnixMicro(), forged.Kind, forged.DecisionID,
				forged.Outcome, "", storage.ComputeAuditHash(forged))
		}, "evil", 1, "no head"},
	}
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					s := b.Open(t)
					a := tamperFixture(t, s)
					tc.tamper(t, s, a)
					rep, err := s.VerifyAudit(t.Context())
					if err != nil {
						t.Fatalf("verify: %v", err)
					}
					br := rep.FirstBroken
					if rep.OK || br == nil {
						t.Fatalf("verify passed after tampering: %+v", rep)
					}
					if br.ChainID != tc.wantChain || br.Seq != tc.wantSeq || !strings.Contains(br.Reason, tc.wantReason) {
						t.Errorf("first broken = %+v, want %s/%d with reason containing %q", br, tc.wantChain, tc.wantSeq, tc.wantReason)
					}
					if br.ID == 0 && tc.name != "deleted last record" {
						t.Errorf("first broken record has no row id: %+v", br)
					}
				})
			}
		})
	}
}

func exec(t testing.TB, s *sqlstore.Store, stmt string, args ...any) {
	t.Helper()
	if err := sqlstore.ExecRaw(t.Context(), s, stmt, args...); err != nil {
		t.Fatalf("tamper %q: %v", stmt, err)
	}
}
