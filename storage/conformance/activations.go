package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func activationTests() []subTest {
	return []subTest{{"RevisionActivations", testActivations}, {"RevisionActivationRollsBack", testActivationRollsBack},
		{"RevisionActivationsOneOpen", testActivationsOneOpen}}
}

func testActivations(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	r1, err := s.CreateRevision(ctx, newRevision(1))
	mustNoErr(t, err, "create r1")
	r2, err := s.CreateRevision(ctx, newRevision(2))
	mustNoErr(t, err, "create r2")
	_, err = s.AppendActivation(ctx, storage.RevisionActivation{RevisionID: r1.ID, Kind: storage.ActivationActivate})
	wantErr(t, err, storage.ErrInvalid, "append without a time")

	t0 := baseTime()
	steps := []storage.RevisionActivation{
		{RevisionID: r1.ID, Kind: storage.ActivationActivate, ActivatedAt: t0, ActivatedBy: "admin", Reason: "first"},
		{RevisionID: r2.ID, Kind: storage.ActivationActivate, ActivatedAt: t0.Add(time.Hour), ActivatedBy: "https://idp|alice",
			ActivatedLabel: "alice@example.com", Reason: "tighten", ApprovalID: 4, ApprovedBy: "https://idp|bob", ApprovedLabel: "bob@example.com"},
		{RevisionID: r1.ID, Kind: storage.ActivationRollback, ActivatedAt: t0.Add(2 * time.Hour), ActivatedBy: "admin", Reason: "undo"},
	}
	for i, a := range steps {
		got, err := s.AppendActivation(ctx, a)
		mustNoErr(t, err, "append")
		if got.ID <= 0 || got.EndedAt != nil {
			t.Fatalf("step %d appended = %+v, want an id and an open period", i, got)
		}
	}
	all, err := s.ListActivations(ctx, 0)
	mustNoErr(t, err, "list all")
	if len(all) != 3 {
		t.Fatalf("list all = %d periods, want 3", len(all))
	}
	// Newest first; each period ends when the next begins; the last is open.
	if all[0].Reason != "undo" || all[0].EndedAt != nil {
		t.Errorf("newest = %+v, want the open rollback", all[0])
	}
	if all[1].EndedAt == nil || !all[1].EndedAt.Equal(micro(t0.Add(2*time.Hour))) {
		t.Errorf("middle ended %v, want when the rollback began", all[1].EndedAt)
	}
	if all[1].ApprovedBy != "https://idp|bob" || all[1].ApprovalID != 4 || all[1].ActivatedLabel != "alice@example.com" {
		t.Errorf("middle = %+v, want the approval kept", all[1])
	}
	sameTime(t, *all[2].EndedAt, t0.Add(time.Hour), "first EndedAt")
	sameTime(t, all[2].ActivatedAt, t0, "first ActivatedAt")
	of1, err := s.ListActivations(ctx, r1.ID)
	mustNoErr(t, err, "list r1")
	if len(of1) != 2 || of1[0].Kind != storage.ActivationRollback || of1[1].Reason != "first" {
		t.Errorf("periods of r1 = %+v", of1)
	}
}

// testActivationRollsBack checks that a period appended in a transaction
// that fails leaves the timeline as it was.
func testActivationRollsBack(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	r1, err := s.CreateRevision(ctx, newRevision(1))
	mustNoErr(t, err, "create")
	_, err = s.AppendActivation(ctx, storage.RevisionActivation{RevisionID: r1.ID, Kind: storage.ActivationActivate, ActivatedAt: baseTime()})
	mustNoErr(t, err, "append")
	boom := errors.New("boom")
	err = s.Atomic(ctx, func(tx storage.Store) error {
		if _, err := tx.AppendActivation(context.WithoutCancel(ctx), storage.RevisionActivation{RevisionID: r1.ID,
			Kind: storage.ActivationRollback, ActivatedAt: baseTime().Add(time.Hour)}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom, "atomic")
	all, err := s.ListActivations(ctx, 0)
	mustNoErr(t, err, "list")
	if len(all) != 1 || all[0].EndedAt != nil {
		t.Fatalf("after rollback = %+v, want the one open period", all)
	}
}

// testActivationsOneOpen appends periods concurrently: afterwards exactly
// one is open, and the others each ended.
func testActivationsOneOpen(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	r, err := s.CreateRevision(ctx, newRevision(1))
	mustNoErr(t, err, "create")
	errs := race(8, func(i int) error {
		_, err := s.AppendActivation(ctx, storage.RevisionActivation{RevisionID: r.ID, Kind: storage.ActivationActivate,
			ActivatedAt: baseTime().Add(time.Duration(i) * time.Second)})
		return err
	})
	for _, err := range errs {
		mustNoErr(t, err, "concurrent append")
	}
	all, err := s.ListActivations(ctx, r.ID)
	mustNoErr(t, err, "list")
	open := 0
	for _, p := range all {
		if p.EndedAt == nil {
			open++
		}
	}
	if len(all) != 8 || open != 1 {
		t.Fatalf("%d periods, %d open; want 8 with one open", len(all), open)
	}
}
