package sqlstore_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/anchor"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// anchoredFixture is tamperFixture with signed checkpoints made after the
// second and after the fifth round of appends, as a running stepgate's
// checkpointer would; it returns the checks of the witness file.
type anchoredFixture struct {
	s       *sqlstore.Store
	a       []storage.AuditRecord
	key     ed25519.PrivateKey
	witness string
}

func newAnchoredFixture(t *testing.T, s *sqlstore.Store) *anchoredFixture {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &anchoredFixture{s: s, key: key, witness: filepath.Join(t.TempDir(), "checkpoints.jsonl")}
	fw, err := anchor.NewFileWitness(f.witness)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	cp, err := anchor.New(anchor.Config{Heads: s, Key: key, Signer: "a", Witnesses: []anchor.Witness{fw}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		recs := []storage.AuditRecord{fixtureRecord("a", i), fixtureRecord("b", i)}
		if err := s.AppendAudit(t.Context(), recs); err != nil {
			t.Fatalf("append: %v", err)
		}
		f.a = append(f.a, recs[0])
		if i == 1 || i == 4 {
			if ok, err := cp.Checkpoint(t.Context()); !ok || err != nil {
				t.Fatalf("checkpoint: made %v, err %v", ok, err)
			}
		}
	}
	return f
}

// verify checks the witness with the right key and the store against it.
func (f *anchoredFixture) verify(t *testing.T) storage.VerifyReport {
	t.Helper()
	cps, _, err := anchor.ReadFile(f.witness)
	if err != nil {
		t.Fatal(err)
	}
	res := anchor.Check(cps, f.key.Public().(ed25519.PublicKey))
	if !res.OK() {
		t.Fatalf("witness problems: %v", res.Problems)
	}
	rep, err := f.s.VerifyAnchored(t.Context(), res.Anchors)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

// rewrite replaces chain a from index from on with recs (renumbered from
// from+1, relinked and rehashed, as an attacker with the hashing code
// would) and moves the stored head to the new last record.
func rewrite(t *testing.T, s *sqlstore.Store, a []storage.AuditRecord, from int, recs []storage.AuditRecord) {
	t.Helper()
	prev := ""
	if from > 0 {
		prev = a[from-1].Hash
	}
	exec(t, s, `DELETE FROM audit_records WHERE chain_id = 'a' AND seq > ?`, from)
	for i, r := range recs {
		r.Seq, r.PrevHash = int64(from+i+1), prev
		r.Time = storage.NormalizeTime(r.Time)
		r.Reasons, r.Input, r.ClientID, r.Subject, r.Action = nil, nil, "", "", ""
		r.Hash = storage.ComputeAuditHash(r)
		exec(t, s, insertAudit, "a", r.Seq, r.Time.UnixMicro(), r.Kind, r.DecisionID, r.Outcome, r.PrevHash, r.Hash)
		prev = r.Hash
	}
	exec(t, s, `UPDATE audit_chains SET last_seq = ?, last_hash = ? WHERE chain_id = 'a'`, from+len(recs), prev)
}

// TestCheckpointsCatchConsistentRewrites runs the four rewrites that leave
// every chain consistent (the unanchored verification passes after each)
// and checks that the signed checkpoints name the chain and sequence.
func TestCheckpointsCatchConsistentRewrites(t *testing.T) {
	tests := []struct {
		name       string
		tamper     func(t *testing.T, f *anchoredFixture)
		wantChain  string
		wantSeq    int64
		wantReason string
	}{
		{"last records deleted and the head moved back", func(t *testing.T, f *anchoredFixture) {
			rewrite(t, f.s, f.a, 3, nil)
		}, "a", 4, "records 4..5 were signed"},
		{"deny edited into allow with every later hash and the head recomputed", func(t *testing.T, f *anchoredFixture) {
			forged := append([]storage.AuditRecord(nil), f.a[2:]...)
			forged[0].Outcome = "allow"
			rewrite(t, f.s, f.a, 2, forged)
		}, "a", 5, "a record among 3..5 was rewritten"},
		{"whole chain deleted with its head", func(t *testing.T, f *anchoredFixture) {
			exec(t, f.s, `DELETE FROM audit_records WHERE chain_id = 'b'`)
			exec(t, f.s, `DELETE FROM audit_chains WHERE chain_id = 'b'`)
		}, "b", 1, "chain deleted"},
		{"one record deleted and the rest renumbered", func(t *testing.T, f *anchoredFixture) {
			rewrite(t, f.s, f.a, 2, append([]storage.AuditRecord(nil), f.a[3:]...))
		}, "a", 5, "records 5..5 were signed"},
	}
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					f := newAnchoredFixture(t, b.Open(t))
					if rep := f.verify(t); !rep.OK || !rep.Anchored || len(rep.Unanchored) != 0 {
						t.Fatalf("before tampering: %+v", rep)
					}
					tc.tamper(t, f)
					if rep, err := f.s.VerifyAudit(t.Context()); err != nil || !rep.OK {
						t.Fatalf("the rewrite should fool the chain alone: %+v, %v", rep, err)
					}
					rep := f.verify(t)
					br := rep.FirstBroken
					if rep.OK || br == nil {
						t.Fatalf("anchored verify passed after tampering: %+v", rep)
					}
					if br.ChainID != tc.wantChain || br.Seq != tc.wantSeq || !strings.Contains(br.Reason, tc.wantReason) {
						t.Errorf("first broken = %+v, want %s/%d with reason containing %q", br, tc.wantChain, tc.wantSeq, tc.wantReason)
					}
				})
			}
		})
	}
}

// TestRecordsAfterTheLastCheckpointAreNotYetAnchored: verification passes,
// and says which records no checkpoint covers yet.
func TestRecordsAfterTheLastCheckpointAreNotYetAnchored(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			f := newAnchoredFixture(t, b.Open(t))
			if err := f.s.AppendAudit(t.Context(), []storage.AuditRecord{fixtureRecord("a", 5), fixtureRecord("a", 6), fixtureRecord("c", 0)}); err != nil {
				t.Fatal(err)
			}
			rep := f.verify(t)
			want := []storage.ChainRange{{ChainID: "a", FromSeq: 6, ToSeq: 7}, {ChainID: "c", FromSeq: 1, ToSeq: 1}}
			if !rep.OK || len(rep.Unanchored) != 2 || rep.Unanchored[0] != want[0] || rep.Unanchored[1] != want[1] {
				t.Fatalf("report %+v, want OK with unanchored %+v", rep, want)
			}
		})
	}
}

// TestRetentionKeepsAnchoredChainsVerifiable: checkpoints signed before a
// prune name records retention deleted; the chain still verifies.
func TestRetentionKeepsAnchoredChainsVerifiable(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			f := newAnchoredFixture(t, b.Open(t))
			n, err := f.s.DeleteAuditBefore(t.Context(), f.a[3].Time)
			if err != nil || n == 0 {
				t.Fatalf("prune: %d, %v", n, err)
			}
			if rep := f.verify(t); !rep.OK {
				t.Fatalf("after retention: %+v", rep.FirstBroken)
			}
		})
	}
}
