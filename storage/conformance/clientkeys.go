package conformance

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func clientKeyTests() []subTest {
	return []subTest{
		{"ClientKeyOverlap", testClientKeyOverlap},
		{"ClientUse", testClientUse},
	}
}

// testClientKeyOverlap rotates a key with a grace period: both hashes find
// the client until the previous one is cleared, and the times round-trip.
func testClientKeyOverlap(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	in := newClient("billing-svc")
	mustNoErr(t, s.CreateClient(ctx, in), "create client")
	got, err := s.GetClient(ctx, in.ID)
	mustNoErr(t, err, "get client")
	sameTime(t, got.KeyCreatedAt, in.CreatedAt, "KeyCreatedAt defaults to CreatedAt")
	if got.PreviousKeyHash != "" || got.PreviousKeyExpiresAt != nil || got.LastUsedAt != nil {
		t.Errorf("new client = %+v, want no previous key and no use", got)
	}

	rotated, until := baseTime().Add(time.Hour), baseTime().Add(25*time.Hour)
	got.PreviousKeyHash, got.PreviousKeyExpiresAt = got.KeyHash, &until
	got.KeyHash, got.KeyCreatedAt = "keyhash-new", rotated
	mustNoErr(t, s.UpdateClient(ctx, got), "rotate with overlap")
	for _, h := range []string{"keyhash-new", in.KeyHash} {
		byKey, err := s.ClientByKeyHash(ctx, h)
		mustNoErr(t, err, "lookup by "+h)
		if byKey.ID != in.ID || byKey.KeyHash != "keyhash-new" || byKey.PreviousKeyHash != in.KeyHash {
			t.Errorf("lookup by %s = %+v", h, byKey)
		}
		sameTime(t, byKey.KeyCreatedAt, rotated, "KeyCreatedAt after rotation")
		if byKey.PreviousKeyExpiresAt == nil {
			t.Fatalf("lookup by %s lost the previous key's expiry", h)
		}
		sameTime(t, *byKey.PreviousKeyExpiresAt, until, "PreviousKeyExpiresAt")
		sameTime(t, byKey.CreatedAt, in.CreatedAt, "CreatedAt after rotation")
	}
	if !got.PreviousKeyValid(until.Add(-time.Second)) || got.PreviousKeyValid(until) {
		t.Errorf("PreviousKeyValid is not true exactly before %v", until)
	}

	mustNoErr(t, s.CreateClient(ctx, storage.Client{ID: "dup", KeyHash: "x"}), "create a second client")
	dup, err := s.GetClient(ctx, "dup")
	mustNoErr(t, err, "get the second client")
	dup.PreviousKeyHash, dup.PreviousKeyExpiresAt = in.KeyHash, &until
	wantErr(t, s.UpdateClient(ctx, dup), storage.ErrAlreadyExists, "a previous key hash another client holds")

	got.PreviousKeyHash, got.PreviousKeyExpiresAt = "", nil
	mustNoErr(t, s.UpdateClient(ctx, got), "end the overlap")
	_, err = s.ClientByKeyHash(ctx, in.KeyHash)
	wantErr(t, err, storage.ErrNotFound, "lookup by the previous key after the overlap ended")
	_, err = s.ClientByKeyHash(ctx, "")
	wantErr(t, err, storage.ErrNotFound, "lookup by an empty hash")
	undated := got
	undated.KeyCreatedAt, undated.Name = time.Time{}, "Renamed"
	mustNoErr(t, s.UpdateClient(ctx, undated), "update without KeyCreatedAt, same key")
	kept, err := s.GetClient(ctx, in.ID)
	mustNoErr(t, err, "get client")
	sameTime(t, kept.KeyCreatedAt, rotated, "KeyCreatedAt kept when the key did not change")
	undated.KeyHash = "keyhash-third"
	mustNoErr(t, s.UpdateClient(ctx, undated), "update without KeyCreatedAt, new key")
	changed, err := s.GetClient(ctx, in.ID)
	mustNoErr(t, err, "get client")
	if !changed.KeyCreatedAt.After(rotated) {
		t.Errorf("KeyCreatedAt = %v after a new key without a date, want the store's now", changed.KeyCreatedAt)
	}
}

// testClientUse records uses out of order: times only move forward, per key,
// and updates and lookups leave them alone.
func testClientUse(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	in := newClient("shop")
	mustNoErr(t, s.CreateClient(ctx, in), "create client")
	t1, t2, t3 := baseTime().Add(time.Minute), baseTime().Add(2*time.Minute), baseTime().Add(3*time.Minute)
	mustNoErr(t, s.RecordClientUse(ctx, nil), "record nothing")
	mustNoErr(t, s.RecordClientUse(ctx, []storage.ClientUse{
		{ClientID: "shop", At: t2}, {ClientID: "shop", At: t1}, {ClientID: "shop", Previous: true, At: t1},
		{ClientID: "unknown", At: t3},
	}), "record uses")
	got, err := s.GetClient(ctx, "shop")
	mustNoErr(t, err, "get client")
	if got.LastUsedAt == nil || got.PreviousKeyLastUsedAt == nil {
		t.Fatalf("use times = %v, %v; want both set", got.LastUsedAt, got.PreviousKeyLastUsedAt)
	}
	sameTime(t, *got.LastUsedAt, t2, "LastUsedAt keeps the latest use")
	sameTime(t, *got.PreviousKeyLastUsedAt, t1, "PreviousKeyLastUsedAt")

	got.Name, got.LastUsedAt = "Renamed", nil
	mustNoErr(t, s.UpdateClient(ctx, got), "update client")
	got, err = s.GetClient(ctx, "shop")
	mustNoErr(t, err, "get updated client")
	if got.LastUsedAt == nil {
		t.Fatal("UpdateClient cleared LastUsedAt")
	}
	sameTime(t, *got.LastUsedAt, t2, "LastUsedAt after an update")
	mustNoErr(t, s.RecordClientUse(ctx, []storage.ClientUse{{ClientID: "shop", At: t3}}), "record a later use")
	got, err = s.GetClient(ctx, "shop")
	mustNoErr(t, err, "get client")
	sameTime(t, *got.LastUsedAt, t3, "LastUsedAt moves forward")
}
