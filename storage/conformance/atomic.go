package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func atomicTests() []subTest {
	return []subTest{
		{"AtomicCommitsChangeWithRecord", testAtomicCommits},
		{"AtomicRollsBackWhenFnFails", testAtomicFnFails},
		{"AtomicRollsBackWhenAppendFails", testAtomicAppendFails},
		{"AtomicIsolated", testAtomicIsolated},
		{"AtomicNested", testAtomicNested},
		{"AtomicChainsAroundPlainAppends", testAtomicChainsAroundPlainAppends},
	}
}

// adminRecord is an admin change record on chain.
func adminRecord(chain, change string, n int) storage.AuditRecord {
	return storage.AuditRecord{
		ChainID: chain, Time: baseTime().Add(time.Duration(n) * time.Second), Kind: storage.KindAdmin,
		Actor: "https://idp.example|sub-1", Action: change, Outcome: "ok",
		Detail: []byte(`{"change":"` + change + `"}`),
	}
}

// adminState is what an admin change may touch, read outside any
// transaction.
type adminState struct {
	revisions []storage.PolicyRevision
	active    int64
	client    storage.Client
	setting   string
	records   []storage.AuditRecord
}

func readAdminState(t testing.TB, s storage.Store, clientID string) adminState {
	t.Helper()
	ctx := ctxFor(t)
	var st adminState
	var err error
	st.revisions, err = s.ListRevisions(ctx)
	mustNoErr(t, err, "list revisions")
	if rev, err := s.ActiveRevision(ctx); err == nil {
		st.active = rev.ID
	} else if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("active revision: %v", err)
	}
	st.client, err = s.GetClient(ctx, clientID)
	mustNoErr(t, err, "get client")
	st.setting, err = s.GetSetting(ctx, "atomic.setting")
	mustNoErr(t, err, "get setting")
	page, err := s.SearchAudit(ctx, storage.AuditQuery{Kind: storage.KindAdmin, Limit: 1000})
	mustNoErr(t, err, "search admin records")
	st.records = page.Records
	return st
}

// seedAdminState stores an active revision, a client, a setting and one
// admin record, so a rolled-back change has something to leave alone.
func seedAdminState(t testing.TB, s storage.Store) storage.PolicyRevision {
	t.Helper()
	ctx := ctxFor(t)
	rev, err := s.CreateRevision(ctx, newRevision(1))
	mustNoErr(t, err, "create revision")
	_, err = s.ActivateRevision(ctx, rev.ID, "alice", baseTime())
	mustNoErr(t, err, "activate revision")
	mustNoErr(t, s.CreateClient(ctx, newClient("billing-svc")), "create client")
	mustNoErr(t, s.SetSetting(ctx, "atomic.setting", "before"), "set setting")
	appendAll(t, s, adminRecord("admin-chain", "policy.activate", 0))
	return rev
}

func assertUnchanged(t testing.TB, s storage.Store, before adminState) {
	t.Helper()
	after := readAdminState(t, s, before.client.ID)
	if len(after.revisions) != len(before.revisions) {
		t.Errorf("%d revisions after the rollback, want %d", len(after.revisions), len(before.revisions))
	}
	if after.active != before.active {
		t.Errorf("active revision %d after the rollback, want %d", after.active, before.active)
	}
	assertClient(t, after.client, before.client)
	if after.setting != before.setting {
		t.Errorf("setting %q after the rollback, want %q", after.setting, before.setting)
	}
	if len(after.records) != len(before.records) {
		t.Errorf("%d admin records after the rollback, want %d", len(after.records), len(before.records))
	}
	assertVerifies(t, s)
}

// change makes every kind of admin change on tx: a revision stored and
// activated, a client revoked, another created, a setting replaced.
func change(t testing.TB, tx storage.Store) storage.PolicyRevision {
	t.Helper()
	ctx := ctxFor(t)
	rev, err := tx.CreateRevision(ctx, newRevision(2))
	mustNoErr(t, err, "create revision in tx")
	rev, err = tx.ActivateRevision(ctx, rev.ID, "bob", baseTime().Add(time.Hour))
	mustNoErr(t, err, "activate revision in tx")
	cl, err := tx.GetClient(ctx, "billing-svc")
	mustNoErr(t, err, "get client in tx")
	cl.Disabled, cl.KeyHash = true, "keyhash-rotated"
	mustNoErr(t, tx.UpdateClient(ctx, cl), "update client in tx")
	mustNoErr(t, tx.CreateClient(ctx, newClient("shop")), "create client in tx")
	mustNoErr(t, tx.DeleteClient(ctx, "shop"), "delete client in tx")
	mustNoErr(t, tx.SetSetting(ctx, "atomic.setting", "after"), "set setting in tx")
	// The transaction reads its own writes.
	active, err := tx.ActiveRevision(ctx)
	mustNoErr(t, err, "active revision in tx")
	if active.ID != rev.ID {
		t.Errorf("inside the transaction revision %d is active, want %d", active.ID, rev.ID)
	}
	return rev
}

func testAtomicCommits(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	old := seedAdminState(t, s)
	var rev storage.PolicyRevision
	var rec []storage.AuditRecord
	err := s.Atomic(ctx, func(tx storage.Store) error {
		rev = change(t, tx)
		rec = []storage.AuditRecord{adminRecord("admin-chain", "policy.activate", 1)}
		return tx.AppendAudit(ctx, rec)
	})
	mustNoErr(t, err, "atomic")
	if rec[0].Seq != 2 || rec[0].ID <= 0 || rec[0].Hash != storage.ComputeAuditHash(rec[0]) {
		t.Errorf("record appended in the transaction = seq %d id %d hash %q, want seq 2, an id and its hash",
			rec[0].Seq, rec[0].ID, rec[0].Hash)
	}
	st := readAdminState(t, s, "billing-svc")
	if st.active != rev.ID {
		t.Errorf("active revision %d after the commit, want %d", st.active, rev.ID)
	}
	if got, err := s.GetRevision(ctx, old.ID); err != nil || got.State != storage.RevisionArchived {
		t.Errorf("previous revision after the commit: %+v, %v; want it archived", got, err)
	}
	if !st.client.Disabled || st.client.KeyHash != "keyhash-rotated" {
		t.Errorf("client after the commit = %+v, want it rotated and disabled", st.client)
	}
	if _, err := s.GetClient(ctx, "shop"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("client created and deleted in the transaction: %v, want ErrNotFound", err)
	}
	if st.setting != "after" {
		t.Errorf("setting %q after the commit, want %q", st.setting, "after")
	}
	if len(st.records) != 2 || st.records[0].Hash != rec[0].Hash {
		t.Errorf("admin records after the commit: %d, want 2 with the newest appended in the transaction", len(st.records))
	}
	assertVerifies(t, s)
}

func testAtomicFnFails(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	seedAdminState(t, s)
	before := readAdminState(t, s, "billing-svc")
	boom := errors.New("boom")
	err := s.Atomic(ctx, func(tx storage.Store) error {
		change(t, tx)
		mustNoErr(t, tx.AppendAudit(ctx, []storage.AuditRecord{adminRecord("admin-chain", "policy.activate", 1),
			adminRecord("other-chain", "client.revoke", 2)}), "append in tx")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("atomic = %v, want fn's error", err)
	}
	assertUnchanged(t, s, before)
	// The chains go on from where they were, not from the rolled-back heads.
	next := appendAll(t, s, adminRecord("admin-chain", "client.create", 3), adminRecord("other-chain", "client.create", 4))
	if next[0].Seq != 2 || next[1].Seq != 1 {
		t.Errorf("appends after the rollback got seq %d and %d, want 2 and 1", next[0].Seq, next[1].Seq)
	}
	assertVerifies(t, s)
}

func testAtomicAppendFails(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	seedAdminState(t, s)
	before := readAdminState(t, s, "billing-svc")
	err := s.Atomic(ctx, func(tx storage.Store) error {
		change(t, tx)
		bad := adminRecord("admin-chain", "policy.activate", 1)
		bad.Kind = ""
		return tx.AppendAudit(ctx, []storage.AuditRecord{adminRecord("admin-chain", "policy.push", 1), bad})
	})
	if !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("atomic = %v, want the append's ErrInvalid", err)
	}
	assertUnchanged(t, s, before)
}

func testAtomicIsolated(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	seedAdminState(t, s)
	before := readAdminState(t, s, "billing-svc")
	err := s.Atomic(ctx, func(tx storage.Store) error {
		rev := change(t, tx)
		// Readers outside see nothing of the open transaction.
		if _, err := s.GetRevision(ctx, rev.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("revision %d seen outside the open transaction: %v", rev.ID, err)
		}
		if id, _, err := s.ActiveRevisionID(ctx); err != nil || id != before.active {
			t.Errorf("outside the open transaction revision %d (%v) is active, want %d", id, err, before.active)
		}
		if v, err := s.GetSetting(ctx, "atomic.setting"); err != nil || v != "before" {
			t.Errorf("setting outside the open transaction = %q, %v; want %q", v, err, "before")
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("atomic returned nil for a failing function")
	}
	assertUnchanged(t, s, before)
}

func testAtomicNested(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	seedAdminState(t, s)
	before := readAdminState(t, s, "billing-svc")
	boom := errors.New("outer fails")
	err := s.Atomic(ctx, func(tx storage.Store) error {
		err := tx.Atomic(ctx, func(inner storage.Store) error {
			change(t, inner)
			return inner.AppendAudit(ctx, []storage.AuditRecord{adminRecord("admin-chain", "policy.activate", 1)})
		})
		mustNoErr(t, err, "nested atomic")
		if err := tx.Close(); err == nil {
			t.Error("Close on the transaction's store succeeded")
		}
		mustNoErr(t, tx.Ping(ctx), "ping in tx")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("atomic = %v, want the outer function's error", err)
	}
	// The nested call did not commit on its own.
	assertUnchanged(t, s, before)
	mustNoErr(t, s.Ping(ctx), "ping after the transaction")
}

func testAtomicChainsAroundPlainAppends(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	appendAll(t, s, adminRecord("admin-chain", "a", 1), decision("admin-chain", 2))
	var inTx []storage.AuditRecord
	for i := range 3 {
		err := s.Atomic(ctx, func(tx storage.Store) error {
			inTx = []storage.AuditRecord{adminRecord("admin-chain", "b", 3+i)}
			return tx.AppendAudit(ctx, inTx)
		})
		mustNoErr(t, err, "atomic append")
		if want := int64(3 + 2*i); inTx[0].Seq != want {
			t.Errorf("append in transaction %d got seq %d, want %d", i, inTx[0].Seq, want)
		}
		after := appendAll(t, s, decision("admin-chain", 10+i))
		if after[0].Seq != inTx[0].Seq+1 || after[0].PrevHash != inTx[0].Hash {
			t.Errorf("plain append after transaction %d is seq %d linked to %.8s, want seq %d linked to %.8s",
				i, after[0].Seq, after[0].PrevHash, inTx[0].Seq+1, inTx[0].Hash)
		}
	}
	assertVerifies(t, s)
}
