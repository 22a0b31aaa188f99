package admin_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

func TestRevealShowsASecretOnceToItsSessionOnly(t *testing.T) {
	ctx := t.Context()
	st := sqlstoretest.Backends()[0].Open(t)
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	r := admin.NewReveals(st, func() time.Time { return now })
	const secret = "sgk_THE-NEW-CLIENT-KEY"
	if err := r.Put(ctx, "cookie-of-alice", "client billing", secret); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Take(ctx, "cookie-of-bob", "client billing"); !errors.Is(err, admin.ErrNothingToReveal) {
		t.Errorf("another session took the secret: %v", err)
	}
	if _, err := r.Take(ctx, "cookie-of-alice", "client shop"); !errors.Is(err, admin.ErrNothingToReveal) {
		t.Errorf("another name took the secret: %v", err)
	}
	got, err := r.Take(ctx, "cookie-of-alice", "client billing")
	if err != nil || got != secret {
		t.Fatalf("take = %q, %v", got, err)
	}
	if _, err := r.Take(ctx, "cookie-of-alice", "client billing"); !errors.Is(err, admin.ErrNothingToReveal) {
		t.Errorf("the secret was shown twice: %v", err)
	}

	if err := r.Put(ctx, "cookie-of-alice", "client billing", secret); err != nil {
		t.Fatal(err)
	}
	now = now.Add(5 * time.Minute)
	if _, err := r.Take(ctx, "cookie-of-alice", "client billing"); !errors.Is(err, admin.ErrNothingToReveal) {
		t.Errorf("an expired secret was shown: %v", err)
	}
}

func TestRevealKeepsNoCleartextInTheStore(t *testing.T) {
	ctx := t.Context()
	st := sqlstoretest.Backends()[0].Open(t)
	rec := &recordingSessions{Store: st}
	r := admin.NewReveals(rec, nil)
	const secret = "sgk_SECRET-VALUE-1234567890"
	if err := r.Put(ctx, "cookie", "client billing", secret); err != nil {
		t.Fatal(err)
	}
	if len(rec.puts) != 1 {
		t.Fatalf("%d writes, want 1", len(rec.puts))
	}
	for _, b := range [][]byte{rec.puts[0].data, []byte(rec.puts[0].id)} {
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte("cookie")) {
			t.Errorf("the store got the secret or the cookie in clear: %q", b)
		}
	}
}

type recordingSessions struct {
	storage.Store
	puts []struct {
		id   string
		data []byte
	}
}

func (r *recordingSessions) PutAdminSession(ctx context.Context, id string, data []byte, exp time.Time) error {
	r.puts = append(r.puts, struct {
		id   string
		data []byte
	}{id, append([]byte(nil), data...)})
	return r.Store.PutAdminSession(ctx, id, data, exp)
}
