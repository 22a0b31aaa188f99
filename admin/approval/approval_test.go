package approval_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/approval"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// storeLog writes admin events straight into the store.
type storeLog struct{ s storage.Store }

func (l storeLog) Write(ctx context.Context, rec storage.AuditRecord) error {
	rec.ChainID = "test"
	return l.s.AppendAudit(ctx, []storage.AuditRecord{rec})
}

const (
	alice = "https://idp.example|alice"
	bob   = "https://idp.example|bob"
)

type fixture struct {
	store     storage.Store
	policies  *admin.Policies
	svc       *approval.Service
	now       time.Time
	first     storage.PolicyRevision
	draft     storage.PolicyRevision
	activated []int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	st := sqlstoretest.NewSQLite(t)
	f := &fixture{store: st, now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	rec, err := admin.NewRecorder(admin.RecorderConfig{ChainID: "test", Log: storeLog{st}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	f.policies, err = admin.NewPolicies(admin.PoliciesConfig{Store: st, Recorder: rec, Compiler: policy.NewEngine(policy.EngineConfig{}),
		Now: clock, OnActivate: func(_ context.Context, rev storage.PolicyRevision) { f.activated = append(f.activated, rev.ID) }})
	if err != nil {
		t.Fatal(err)
	}
	if f.svc, err = approval.New(approval.Config{Store: st, Policies: f.policies, Recorder: rec, TTL: time.Hour, Now: clock}); err != nil {
		t.Fatal(err)
	}
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	if f.first, _, err = f.policies.Push(ctx, "setup", files, "first", true); err != nil {
		t.Fatal(err)
	}
	next := maps.Clone(files)
	next["extra.rego"] = []byte("package extra\n")
	if f.draft, _, err = f.policies.Push(ctx, "setup", next, "second", false); err != nil {
		t.Fatal(err)
	}
	f.activated = nil
	return f
}

// as returns a context labelled like a signed-in person's request.
func as(t *testing.T, label string) context.Context { return admin.WithActorLabel(t.Context(), label) }

func (f *fixture) active(t *testing.T) int64 {
	t.Helper()
	id, _, err := f.store.ActiveRevisionID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) lastRecord(t *testing.T) (storage.AuditRecord, map[string]any) {
	t.Helper()
	page, err := f.store.SearchAudit(t.Context(), storage.AuditQuery{Kind: storage.KindAdmin, Limit: 1})
	if err != nil || len(page.Records) == 0 {
		t.Fatalf("last admin record: %v", err)
	}
	var d map[string]any
	_ = json.Unmarshal(page.Records[0].Detail, &d)
	return page.Records[0], d
}

func TestFourEyesActivation(t *testing.T) {
	f := newFixture(t)
	req, err := f.svc.Request(as(t, "alice@example.com"), alice, storage.ApprovalActivate, f.draft.ID, "ship the extra module")
	if err != nil {
		t.Fatal(err)
	}
	if req.Status != storage.ApprovalPending || req.BaseRevisionID != f.first.ID || !req.ExpiresAt.Equal(f.now.Add(time.Hour)) {
		t.Fatalf("request = %+v", req)
	}
	if rec, d := f.lastRecord(t); rec.Action != approval.ActionRequest || rec.Actor != alice || d["approval"] != float64(req.ID) {
		t.Errorf("request record = %s by %s, %v", rec.Action, rec.Actor, d)
	}
	// Nothing is live yet.
	if f.active(t) != f.first.ID || len(f.activated) != 0 {
		t.Fatal("the request activated something")
	}
	// The requester cannot approve, even under another label.
	if _, err := f.svc.Approve(as(t, "someone-else@example.com"), alice, req.ID, "looks fine", f.first.ID, nil); !errors.Is(err, approval.ErrSelfApproval) {
		t.Fatalf("self approval: %v, want ErrSelfApproval", err)
	}
	if rec, _ := f.lastRecord(t); rec.Action != approval.ActionApprove || rec.Outcome != admin.OutcomeRefused {
		t.Errorf("self approval record = %s %s", rec.Action, rec.Outcome)
	}
	if _, err := f.svc.Approve(as(t, "bob@example.com"), bob, req.ID, "", f.first.ID, nil); !errors.Is(err, approval.ErrNoReason) {
		t.Errorf("approval without reason: %v", err)
	}
	if _, err := f.svc.Approve(as(t, "bob@example.com"), bob, req.ID, "reviewed", f.draft.ID, nil); !errors.Is(err, approval.ErrStale) {
		t.Errorf("approval against another active revision than shown: %v, want ErrStale", err)
	}
	if f.active(t) != f.first.ID {
		t.Fatal("a refused approval activated the revision")
	}

	f.now = f.now.Add(10 * time.Minute)
	rev, err := f.svc.Approve(as(t, "bob@example.com"), bob, req.ID, "reviewed diff and impact", f.first.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rev.ID != f.draft.ID || f.active(t) != f.draft.ID || len(f.activated) != 1 {
		t.Fatalf("approved: rev %d active %d, swaps %v", rev.ID, f.active(t), f.activated)
	}
	if rev.ActivatedBy != alice {
		t.Errorf("revision activated by %q, want the requester", rev.ActivatedBy)
	}
	got, err := f.svc.Get(t.Context(), req.ID)
	if err != nil || got.Status != storage.ApprovalApproved || got.DecidedBy != bob || got.DecisionReason != "reviewed diff and impact" {
		t.Errorf("request after approval = %+v, %v", got, err)
	}
	// The activation record and the approval record are both there, by the approver.
	page, _ := f.store.SearchAudit(t.Context(), storage.AuditQuery{Kind: storage.KindAdmin, Limit: 2})
	if len(page.Records) != 2 || page.Records[0].Action != "policy.activate" || page.Records[1].Action != approval.ActionApprove ||
		page.Records[0].Actor != bob || page.Records[1].Actor != bob {
		t.Fatalf("last two records: %+v", page.Records)
	}
	var d map[string]any
	_ = json.Unmarshal(page.Records[0].Detail, &d)
	if d["requested_by"] != alice || d["approval"] != float64(req.ID) || d["reason"] != "ship the extra module" {
		t.Errorf("activation detail = %v", d)
	}
	// The timeline names both people.
	periods, err := f.store.ListActivations(t.Context(), f.draft.ID)
	if err != nil || len(periods) != 1 {
		t.Fatalf("periods = %+v, %v", periods, err)
	}
	p := periods[0]
	if p.ActivatedBy != alice || p.ActivatedLabel != "alice@example.com" || p.ApprovedBy != bob || p.ApprovedLabel != "bob@example.com" ||
		p.ApprovalID != req.ID || p.Reason != "ship the extra module" || !p.ActivatedAt.Equal(f.now) {
		t.Errorf("period = %+v", p)
	}
	// Decided once.
	if _, err := f.svc.Approve(as(t, "carol"), "https://idp.example|carol", req.ID, "again", f.draft.ID, nil); !errors.Is(err, approval.ErrDecided) {
		t.Errorf("second approval: %v, want ErrDecided", err)
	}
}

func TestRejectAndExpire(t *testing.T) {
	f := newFixture(t)
	req, err := f.svc.Request(as(t, "alice"), alice, storage.ApprovalActivate, f.draft.ID, "try it")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Reject(as(t, "bob"), bob, req.ID, " "); !errors.Is(err, approval.ErrNoReason) {
		t.Errorf("reject without reason: %v", err)
	}
	got, err := f.svc.Reject(as(t, "bob"), bob, req.ID, "not during the freeze")
	if err != nil || got.Status != storage.ApprovalRejected || got.DecidedBy != bob {
		t.Fatalf("reject = %+v, %v", got, err)
	}
	if rec, d := f.lastRecord(t); rec.Action != approval.ActionReject || d["reason"] != "not during the freeze" || d["withdrawn"] != false {
		t.Errorf("reject record = %s %v", rec.Action, d)
	}
	if _, err := f.svc.Approve(as(t, "carol"), "https://idp.example|carol", req.ID, "x", f.first.ID, nil); !errors.Is(err, approval.ErrDecided) {
		t.Errorf("approve a rejected request: %v", err)
	}
	if f.active(t) != f.first.ID {
		t.Fatal("a rejected request went live")
	}

	// An expired request cannot be approved, and its expiry is recorded.
	late, err := f.svc.Request(as(t, "alice"), alice, storage.ApprovalActivate, f.draft.ID, "again")
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	if _, err := f.svc.Approve(as(t, "bob"), bob, late.ID, "ok now", f.first.ID, nil); !errors.Is(err, approval.ErrExpired) {
		t.Fatalf("approve an expired request: %v, want ErrExpired", err)
	}
	got, _ = f.store.GetApproval(t.Context(), late.ID)
	if got.Status != storage.ApprovalExpired || got.DecidedBy != approval.SystemActor {
		t.Errorf("expired request = %+v", got)
	}
	page, _ := f.store.SearchAudit(t.Context(), storage.AuditQuery{Kind: storage.KindAdmin, Action: approval.ActionExpire, Limit: 5})
	if len(page.Records) != 1 || page.Records[0].Actor != approval.SystemActor {
		t.Errorf("expiry records = %+v", page.Records)
	}
	if f.active(t) != f.first.ID || len(f.activated) != 0 {
		t.Fatal("an expired request went live")
	}

	// The requester may withdraw their own request.
	own, _ := f.svc.Request(as(t, "alice"), alice, storage.ApprovalActivate, f.draft.ID, "third try")
	if _, err := f.svc.Reject(as(t, "alice"), alice, own.ID, "wrong revision"); err != nil {
		t.Fatal(err)
	}
	if _, d := f.lastRecord(t); d["withdrawn"] != true {
		t.Errorf("withdrawal detail = %v", d)
	}
}

func TestRequestRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := as(t, "alice")
	if _, err := f.svc.Request(ctx, alice, storage.ApprovalActivate, f.draft.ID, ""); !errors.Is(err, approval.ErrNoReason) {
		t.Errorf("no reason: %v", err)
	}
	if _, err := f.svc.Request(ctx, alice, storage.ApprovalActivate, f.first.ID, "again"); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("request the active revision: %v", err)
	}
	if _, err := f.svc.Request(ctx, alice, storage.ApprovalActivate, 999, "ghost"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("request an unknown revision: %v", err)
	}
	// Nothing earlier to roll back to.
	if _, err := f.svc.Request(ctx, alice, storage.ApprovalRollback, f.first.ID, "undo"); !errors.Is(err, admin.ErrNoPrevious) {
		t.Errorf("rollback without a previous revision: %v", err)
	}
	if list, _ := f.svc.List(t.Context(), "", 0); len(list) != 0 {
		t.Fatalf("refused requests stored: %+v", list)
	}
}

func TestFourEyesRollback(t *testing.T) {
	f := newFixture(t)
	if _, err := f.policies.Activate(as(t, "setup"), "setup", f.draft.ID, "second live"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Request(as(t, "alice"), alice, storage.ApprovalRollback, f.draft.ID, "undo"); !errors.Is(err, admin.ErrTargetMoved) {
		t.Errorf("rollback to a revision that is not the target: %v", err)
	}
	req, err := f.svc.Request(as(t, "alice"), alice, storage.ApprovalRollback, f.first.ID, "second breaks checkout")
	if err != nil {
		t.Fatal(err)
	}
	if f.active(t) != f.draft.ID {
		t.Fatal("the rollback request rolled back")
	}
	if _, err := f.svc.Approve(as(t, "bob"), bob, req.ID, "confirmed with on-call", f.draft.ID, nil); err != nil {
		t.Fatal(err)
	}
	if f.active(t) != f.first.ID {
		t.Fatal("approved rollback did not roll back")
	}
	rec, _ := f.lastRecord(t)
	if rec.Action != "policy.rollback" || rec.Actor != bob {
		t.Errorf("rollback record = %s by %s", rec.Action, rec.Actor)
	}
	periods, _ := f.store.ListActivations(t.Context(), f.first.ID)
	if len(periods) != 2 || periods[0].Kind != storage.ActivationRollback || periods[0].ApprovedBy != bob || periods[1].EndedAt == nil {
		t.Errorf("periods of the first revision = %+v", periods)
	}
}
