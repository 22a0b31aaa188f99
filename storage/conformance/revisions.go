package conformance

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func newRevision(n int) storage.PolicyRevision {
	bundle := bytes.Repeat([]byte{byte(n)}, 64+n)
	return storage.PolicyRevision{
		Bundle: bundle, Hash: "hash-" + string(rune('a'+n)), Author: "alice", Message: "push",
		CreatedAt: baseTime().Add(time.Duration(n) * time.Minute),
	}
}

func revisionTests() []subTest {
	return []subTest{
		{"RevisionCreateGet", testRevisionCreateGet},
		{"RevisionList", testRevisionList},
		{"RevisionActivate", testRevisionActivate},
		{"RevisionErrors", testRevisionErrors},
		{"RevisionDelete", testRevisionDelete},
	}
}

func testRevisionCreateGet(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	in := newRevision(1)
	in.State = storage.RevisionActive // ignored: new revisions are drafts
	got, err := s.CreateRevision(ctx, in)
	mustNoErr(t, err, "create revision")
	if got.ID <= 0 || got.State != storage.RevisionDraft || got.ActivatedAt != nil {
		t.Fatalf("created revision = %+v, want positive id, draft, never activated", got)
	}
	back, err := s.GetRevision(ctx, got.ID)
	mustNoErr(t, err, "get revision")
	if !bytes.Equal(back.Bundle, in.Bundle) || back.Hash != in.Hash || back.Author != in.Author ||
		back.Message != in.Message || back.State != storage.RevisionDraft {
		t.Errorf("get revision = %+v, want content of %+v", back, in)
	}
	sameTime(t, back.CreatedAt, in.CreatedAt, "CreatedAt")
	second, err := s.CreateRevision(ctx, newRevision(2))
	mustNoErr(t, err, "create second revision")
	if second.ID <= got.ID {
		t.Errorf("second id %d not greater than first %d", second.ID, got.ID)
	}
}

func testRevisionList(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	list, err := s.ListRevisions(ctx)
	mustNoErr(t, err, "list empty")
	if len(list) != 0 {
		t.Fatalf("empty store lists %d revisions", len(list))
	}
	var ids []int64
	for i := range 3 {
		r, err := s.CreateRevision(ctx, newRevision(i))
		mustNoErr(t, err, "create revision")
		ids = append(ids, r.ID)
	}
	list, err = s.ListRevisions(ctx)
	mustNoErr(t, err, "list revisions")
	if len(list) != 3 {
		t.Fatalf("listed %d revisions, want 3", len(list))
	}
	for i, r := range list {
		if want := ids[len(ids)-1-i]; r.ID != want {
			t.Errorf("list[%d].ID = %d, want %d (newest first)", i, r.ID, want)
		}
		if r.Bundle != nil {
			t.Errorf("list[%d] carries a bundle of %d bytes; listings omit it", i, len(r.Bundle))
		}
		if r.Hash == "" || r.Author != "alice" {
			t.Errorf("list[%d] = %+v, want metadata", i, r)
		}
	}
}

func testRevisionActivate(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	_, err := s.ActiveRevision(ctx)
	wantErr(t, err, storage.ErrNotFound, "active revision of empty store")
	_, _, err = s.ActiveRevisionID(ctx)
	wantErr(t, err, storage.ErrNotFound, "active revision id of empty store")
	first, err := s.CreateRevision(ctx, newRevision(1))
	mustNoErr(t, err, "create first")
	second, err := s.CreateRevision(ctx, newRevision(2))
	mustNoErr(t, err, "create second")

	at := baseTime().Add(time.Hour)
	act, err := s.ActivateRevision(ctx, first.ID, "bob", at)
	mustNoErr(t, err, "activate first")
	if act.State != storage.RevisionActive || act.ActivatedBy != "bob" || act.ActivatedAt == nil {
		t.Fatalf("activated = %+v", act)
	}
	sameTime(t, *act.ActivatedAt, at, "ActivatedAt")
	again, err := s.ActivateRevision(ctx, first.ID, "carol", at.Add(time.Minute))
	mustNoErr(t, err, "activate active revision again")
	if again.ActivatedBy != "bob" {
		t.Errorf("re-activating the active revision changed it: %+v", again)
	}

	_, err = s.ActivateRevision(ctx, second.ID, "carol", at.Add(2*time.Minute))
	mustNoErr(t, err, "activate second")
	active, err := s.ActiveRevision(ctx)
	mustNoErr(t, err, "active revision")
	if active.ID != second.ID || !bytes.Equal(active.Bundle, newRevision(2).Bundle) || active.ActivatedBy != "carol" {
		t.Errorf("active = %+v, want revision %d with its bundle, activated by carol", active, second.ID)
	}
	if id, hash, err := s.ActiveRevisionID(ctx); err != nil || id != second.ID || hash != newRevision(2).Hash {
		t.Errorf("active revision id = %d, %q, %v; want %d, %q", id, hash, err, second.ID, newRevision(2).Hash)
	}
	old, err := s.GetRevision(ctx, first.ID)
	mustNoErr(t, err, "get first")
	if old.State != storage.RevisionArchived {
		t.Errorf("previously active revision state = %q, want archived", old.State)
	}
	// Rollback is activating an archived revision.
	back, err := s.ActivateRevision(ctx, first.ID, "dave", at.Add(3*time.Minute))
	mustNoErr(t, err, "roll back to first")
	if back.State != storage.RevisionActive || back.ActivatedBy != "dave" {
		t.Errorf("rolled back = %+v", back)
	}
}

func testRevisionErrors(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"get missing", func() error { _, err := s.GetRevision(ctx, 999); return err }, storage.ErrNotFound},
		{"activate missing", func() error {
			_, err := s.ActivateRevision(ctx, 999, "bob", baseTime())
			return err
		}, storage.ErrNotFound},
		{"create without bundle", func() error {
			_, err := s.CreateRevision(ctx, storage.PolicyRevision{Hash: "h"})
			return err
		}, storage.ErrInvalid},
		{"create without hash", func() error {
			_, err := s.CreateRevision(ctx, storage.PolicyRevision{Bundle: []byte("x")})
			return err
		}, storage.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.call(), tc.want, tc.name) })
	}
}

func testRevisionDelete(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	var ids []int64
	for i := range 3 {
		r, err := s.CreateRevision(ctx, newRevision(i))
		mustNoErr(t, err, "create revision")
		ids = append(ids, r.ID)
	}
	archived, active, draft := ids[0], ids[1], ids[2]
	_, err := s.ActivateRevision(ctx, archived, "bob", baseTime())
	mustNoErr(t, err, "activate first")
	_, err = s.ActivateRevision(ctx, active, "bob", baseTime().Add(time.Minute))
	mustNoErr(t, err, "activate second")

	for _, tc := range []struct {
		name string
		id   int64
		want error
	}{
		{"missing", 999, storage.ErrNotFound},
		{"active", active, storage.ErrWasActive},
		{"archived after being active", archived, storage.ErrWasActive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.DeleteRevision(ctx, tc.id)
			wantErr(t, err, tc.want, "delete "+tc.name)
		})
	}
	for _, id := range []int64{archived, active} {
		_, err := s.GetRevision(ctx, id)
		mustNoErr(t, err, "a refused delete keeps the revision")
	}

	// A delete rolled back with its transaction leaves the draft.
	errAbort := errors.New("abort")
	err = s.Atomic(ctx, func(tx storage.Store) error {
		if _, err := tx.DeleteRevision(ctx, draft); err != nil {
			return err
		}
		return errAbort
	})
	wantErr(t, err, errAbort, "rolled back delete")
	_, err = s.GetRevision(ctx, draft)
	mustNoErr(t, err, "draft after a rolled back delete")

	gone, err := s.DeleteRevision(ctx, draft)
	mustNoErr(t, err, "delete draft")
	if gone.ID != draft || gone.Hash != newRevision(2).Hash || gone.State != storage.RevisionDraft || gone.Bundle != nil {
		t.Errorf("deleted = %+v, want draft %d with its hash and no bundle", gone, draft)
	}
	_, err = s.GetRevision(ctx, draft)
	wantErr(t, err, storage.ErrNotFound, "get deleted draft")
	list, err := s.ListRevisions(ctx)
	mustNoErr(t, err, "list revisions")
	if len(list) != 2 || list[0].ID != active || list[1].ID != archived {
		t.Errorf("listed %+v, want revisions %d and %d", list, active, archived)
	}
	_, err = s.DeleteRevision(ctx, draft)
	wantErr(t, err, storage.ErrNotFound, "delete twice")
	next, err := s.CreateRevision(ctx, newRevision(3))
	mustNoErr(t, err, "create after delete")
	if next.ID <= draft {
		t.Errorf("new revision got id %d, not above the deleted %d: ids are never reused", next.ID, draft)
	}
}
