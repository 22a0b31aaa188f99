package conformance

import (
	"slices"
	"testing"

	"github.com/stepgate/stepgate/storage"
)

func newClient(id string) storage.Client {
	return storage.Client{
		ID: id, KeyHash: "keyhash-" + id, Name: "Client " + id, AssertClaims: true,
		ReturnTo: []string{"https://app.example/", "https://other.example/cb"}, CreatedAt: baseTime(),
	}
}

func clientTests() []subTest {
	return []subTest{
		{"ClientCRUD", testClientCRUD},
		{"ClientErrors", testClientErrors},
	}
}

func testClientCRUD(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	in := newClient("billing-svc")
	mustNoErr(t, s.CreateClient(ctx, in), "create client")
	bare := storage.Client{ID: "bare", KeyHash: "keyhash-bare"}
	mustNoErr(t, s.CreateClient(ctx, bare), "create bare client")

	got, err := s.GetClient(ctx, in.ID)
	mustNoErr(t, err, "get client")
	assertClient(t, got, in)
	byKey, err := s.ClientByKeyHash(ctx, in.KeyHash)
	mustNoErr(t, err, "client by key hash")
	assertClient(t, byKey, in)
	gotBare, err := s.GetClient(ctx, bare.ID)
	mustNoErr(t, err, "get bare client")
	if len(gotBare.ReturnTo) != 0 || gotBare.CreatedAt.IsZero() {
		t.Errorf("bare client = %+v, want no return_to and a defaulted CreatedAt", gotBare)
	}

	list, err := s.ListClients(ctx)
	mustNoErr(t, err, "list clients")
	if len(list) != 2 || list[0].ID != "bare" || list[1].ID != "billing-svc" {
		t.Fatalf("list = %+v, want bare and billing-svc ordered by id", list)
	}

	upd := in
	upd.KeyHash, upd.Name, upd.AssertClaims, upd.ReturnTo, upd.Disabled = "rotated", "Renamed", false, []string{"https://new.example/"}, true
	upd.CreatedAt = baseTime().AddDate(1, 0, 0) // ignored
	mustNoErr(t, s.UpdateClient(ctx, upd), "update client")
	got, err = s.GetClient(ctx, in.ID)
	mustNoErr(t, err, "get updated client")
	upd.CreatedAt = in.CreatedAt
	assertClient(t, got, upd)
	_, err = s.ClientByKeyHash(ctx, in.KeyHash)
	wantErr(t, err, storage.ErrNotFound, "lookup by the rotated-away key hash")

	mustNoErr(t, s.DeleteClient(ctx, in.ID), "delete client")
	_, err = s.GetClient(ctx, in.ID)
	wantErr(t, err, storage.ErrNotFound, "get deleted client")
}

func testClientErrors(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	mustNoErr(t, s.CreateClient(ctx, newClient("a")), "create a")
	mustNoErr(t, s.CreateClient(ctx, newClient("b")), "create b")
	dupKey := newClient("c")
	dupKey.KeyHash = newClient("a").KeyHash
	stealKey := newClient("b")
	stealKey.KeyHash = newClient("a").KeyHash
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate id", s.CreateClient(ctx, newClient("a")), storage.ErrAlreadyExists},
		{"duplicate key hash", s.CreateClient(ctx, dupKey), storage.ErrAlreadyExists},
		{"update to another client's key hash", s.UpdateClient(ctx, stealKey), storage.ErrAlreadyExists},
		{"update missing", s.UpdateClient(ctx, newClient("zzz")), storage.ErrNotFound},
		{"delete missing", s.DeleteClient(ctx, "zzz"), storage.ErrNotFound},
		{"get missing", func() error { _, err := s.GetClient(ctx, "zzz"); return err }(), storage.ErrNotFound},
		{"key hash missing", func() error { _, err := s.ClientByKeyHash(ctx, "nope"); return err }(), storage.ErrNotFound},
		{"create without key hash", s.CreateClient(ctx, storage.Client{ID: "x"}), storage.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.want, tc.name) })
	}
}

func assertClient(t testing.TB, got, want storage.Client) {
	t.Helper()
	if got.ID != want.ID || got.KeyHash != want.KeyHash || got.Name != want.Name ||
		got.AssertClaims != want.AssertClaims || got.Disabled != want.Disabled ||
		!slices.Equal(got.ReturnTo, want.ReturnTo) {
		t.Errorf("client = %+v, want %+v", got, want)
	}
	sameTime(t, got.CreatedAt, want.CreatedAt, "client CreatedAt")
}
