package clientauth_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/clientauth"
)

// keys is a lookup holding clients by key hash.
type keys map[string]clientauth.Client

func (k keys) ClientByKeyHash(_ context.Context, h string) (clientauth.Client, error) {
	c, ok := k[h]
	if !ok {
		return clientauth.Client{}, clientauth.ErrUnauthenticated
	}
	return c, nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type recorder struct {
	batches [][]clientauth.Use
	fail    error
}

func (r *recorder) RecordUse(_ context.Context, uses []clientauth.Use) error {
	if r.fail != nil {
		return r.fail
	}
	slices.SortFunc(uses, func(a, b clientauth.Use) int {
		if a.ClientID != b.ClientID {
			if a.ClientID < b.ClientID {
				return -1
			}
			return 1
		}
		if a.Previous == b.Previous {
			return 0
		}
		if a.Previous {
			return 1
		}
		return -1
	})
	r.batches = append(r.batches, uses)
	return nil
}

func TestPreviousKeyRefusedAtItsExpiryEvenWhenCached(t *testing.T) {
	clk := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	expiry := clk.t.Add(30 * time.Second)
	lookup := keys{
		clientauth.HashKey("new"): {ID: "billing"},
		clientauth.HashKey("old"): {ID: "billing", PreviousKey: true, KeyExpiresAt: expiry},
	}
	a := clientauth.NewAuthenticator(lookup, time.Minute, clk.now)
	for _, key := range []string{"new", "old"} {
		if c, err := a.Authenticate(t.Context(), key); err != nil || c.ID != "billing" {
			t.Fatalf("key %s before expiry: %+v, %v", key, c, err)
		}
	}
	clk.t = expiry // still within the cache TTL
	if _, err := a.Authenticate(t.Context(), "old"); !errors.Is(err, clientauth.ErrUnauthenticated) {
		t.Errorf("previous key at its expiry: err = %v, want ErrUnauthenticated", err)
	}
	if _, err := a.Authenticate(t.Context(), "new"); err != nil {
		t.Errorf("current key after the previous one expired: %v", err)
	}
}

func TestFlushUseBatchesTheLatestUsePerKey(t *testing.T) {
	clk := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	lookup := keys{
		clientauth.HashKey("a"):     {ID: "a"},
		clientauth.HashKey("a-old"): {ID: "a", PreviousKey: true, KeyExpiresAt: clk.t.Add(time.Hour)},
		clientauth.HashKey("b"):     {ID: "b"},
	}
	a := clientauth.NewAuthenticator(lookup, 0, clk.now)
	rec := &recorder{}
	if err := a.FlushUse(t.Context(), rec); err != nil || len(rec.batches) != 0 {
		t.Fatalf("flush before any use: %v, %d batches", err, len(rec.batches))
	}
	start := clk.t
	for i := range 100 {
		clk.t = start.Add(time.Duration(i) * time.Millisecond)
		for _, k := range []string{"a", "a-old"} {
			if _, err := a.Authenticate(t.Context(), k); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := a.Authenticate(t.Context(), "unknown"); err == nil {
		t.Fatal("unknown key accepted")
	}
	last := clk.t
	rec.fail = errors.New("database down")
	if err := a.FlushUse(t.Context(), rec); err == nil {
		t.Fatal("a failing recorder's error was swallowed")
	}
	rec.fail = nil
	if err := a.FlushUse(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	want := []clientauth.Use{{ClientID: "a", At: last}, {ClientID: "a", Previous: true, At: last}}
	if len(rec.batches) != 1 || !slices.Equal(rec.batches[0], want) {
		t.Fatalf("batches = %+v, want one batch %+v (retried after the failure)", rec.batches, want)
	}
	if err := a.FlushUse(t.Context(), rec); err != nil || len(rec.batches) != 1 {
		t.Errorf("flush without new uses wrote again: %+v, %v", rec.batches, err)
	}
	clk.t = clk.t.Add(time.Minute)
	if _, err := a.Authenticate(t.Context(), "b"); err != nil {
		t.Fatal(err)
	}
	if err := a.FlushUse(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if want := []clientauth.Use{{ClientID: "b", At: clk.t}}; len(rec.batches) != 2 || !slices.Equal(rec.batches[1], want) {
		t.Errorf("second batch = %+v, want only b's use %+v", rec.batches, want)
	}
}
