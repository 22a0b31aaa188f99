package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func approvalTests() []subTest {
	return []subTest{{"PolicyApprovals", testApprovals}, {"PolicyApprovalDecidedOnce", testApprovalDecidedOnce}}
}

func newApproval(t *testing.T, s storage.Store) storage.PolicyApproval {
	t.Helper()
	ctx := ctxFor(t)
	rev, err := s.CreateRevision(ctx, newRevision(1))
	mustNoErr(t, err, "create revision")
	a, err := s.CreateApproval(ctx, storage.PolicyApproval{Kind: storage.ApprovalActivate, RevisionID: rev.ID, BaseRevisionID: 0,
		RequestedBy: "https://idp|alice", RequestedLabel: "alice@example.com", Reason: "raise billing MFA",
		RequestedAt: baseTime(), ExpiresAt: baseTime().Add(24 * time.Hour)})
	mustNoErr(t, err, "create approval")
	return a
}

func testApprovals(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	_, err := s.CreateApproval(ctx, storage.PolicyApproval{Kind: "delete", RevisionID: 1, RequestedBy: "x", ExpiresAt: baseTime()})
	wantErr(t, err, storage.ErrInvalid, "create with an unknown kind")
	_, err = s.GetApproval(ctx, 99)
	wantErr(t, err, storage.ErrNotFound, "get unknown")

	a := newApproval(t, s)
	if a.ID <= 0 || a.Status != storage.ApprovalPending || a.DecidedAt != nil || a.RequestedLabel != "alice@example.com" {
		t.Fatalf("created = %+v", a)
	}
	sameTime(t, a.ExpiresAt, baseTime().Add(24*time.Hour), "ExpiresAt")
	b, err := s.CreateApproval(ctx, storage.PolicyApproval{Kind: storage.ApprovalRollback, RevisionID: a.RevisionID, BaseRevisionID: 7,
		RequestedBy: "admin", Reason: "undo", ExpiresAt: baseTime().Add(time.Hour)})
	mustNoErr(t, err, "create second")
	if b.ID <= a.ID || b.BaseRevisionID != 7 {
		t.Fatalf("second = %+v", b)
	}

	at := baseTime().Add(time.Minute)
	_, err = s.DecideApproval(ctx, storage.PolicyApproval{ID: a.ID, Status: storage.ApprovalPending, DecidedBy: "x", DecidedAt: &at})
	wantErr(t, err, storage.ErrInvalid, "decide to pending")
	got, err := s.DecideApproval(ctx, storage.PolicyApproval{ID: a.ID, Status: storage.ApprovalRejected, DecidedBy: "https://idp|bob",
		DecidedLabel: "bob@example.com", DecisionReason: "not during the freeze", DecidedAt: &at})
	mustNoErr(t, err, "reject")
	if got.Status != storage.ApprovalRejected || got.DecidedBy != "https://idp|bob" || got.DecisionReason != "not during the freeze" || got.DecidedAt == nil {
		t.Fatalf("rejected = %+v", got)
	}
	sameTime(t, *got.DecidedAt, at, "DecidedAt")
	_, err = s.DecideApproval(ctx, storage.PolicyApproval{ID: a.ID, Status: storage.ApprovalApproved, DecidedBy: "z", DecidedAt: &at})
	wantErr(t, err, storage.ErrConflict, "approve a rejected request")
	_, err = s.DecideApproval(ctx, storage.PolicyApproval{ID: 999, Status: storage.ApprovalApproved, DecidedBy: "z", DecidedAt: &at})
	wantErr(t, err, storage.ErrNotFound, "decide unknown")

	all, err := s.ListApprovals(ctx, "", 0)
	mustNoErr(t, err, "list all")
	if len(all) != 2 || all[0].ID != b.ID || all[1].ID != a.ID {
		t.Fatalf("list all = %+v, want newest first", all)
	}
	pending, err := s.ListApprovals(ctx, storage.ApprovalPending, 10)
	mustNoErr(t, err, "list pending")
	if len(pending) != 1 || pending[0].ID != b.ID {
		t.Fatalf("pending = %+v, want only the second", pending)
	}
	if one, _ := s.ListApprovals(ctx, "", 1); len(one) != 1 {
		t.Fatalf("limit 1 gave %d", len(one))
	}
}

func testApprovalDecidedOnce(t *testing.T, s storage.Store) {
	a := newApproval(t, s)
	at := baseTime().Add(time.Minute)
	statuses := []string{storage.ApprovalApproved, storage.ApprovalRejected, storage.ApprovalExpired, storage.ApprovalApproved}
	errs := race(len(statuses), func(i int) error {
		_, err := s.DecideApproval(ctxFor(t), storage.PolicyApproval{ID: a.ID, Status: statuses[i], DecidedBy: "d", DecidedAt: &at})
		return err
	})
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, storage.ErrConflict):
			t.Errorf("loser got %v, want ErrConflict", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d deciders won, want exactly 1", wins)
	}
}
