package main

import (
	"context"
	"errors"
	"testing"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/storage"
)

// TestRevisionLoaderDuringOutage: AuthZEN search paging that cannot read
// its revision answers a retryable error (503), and a revision that is
// gone stays "not found".
func TestRevisionLoaderDuringOutage(t *testing.T) {
	down := revisionLoader(func(context.Context, int64) (storage.PolicyRevision, error) {
		return storage.PolicyRevision{}, errors.New("connection refused")
	})
	if _, err := down(t.Context(), 3); !errors.Is(err, clientauth.ErrUnavailable) {
		t.Fatalf("outage: %v, want ErrUnavailable", err)
	}
	gone := revisionLoader(func(context.Context, int64) (storage.PolicyRevision, error) {
		return storage.PolicyRevision{}, storage.ErrNotFound
	})
	if _, err := gone(t.Context(), 3); !errors.Is(err, storage.ErrNotFound) || errors.Is(err, clientauth.ErrUnavailable) {
		t.Fatalf("missing revision: %v, want ErrNotFound only", err)
	}
}

// TestEnvSigningKey: STEPGATE_AUDIT_SIGNING_KEY supplies the checkpoint key
// for signing and for verify; garbage there is an error, never a fallback.
func TestEnvSigningKey(t *testing.T) {
	const pemKey = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIMWxeNAKN5WOAo6YxuOYovW5g9ZLkosP4khp94NtTZgd\n-----END PRIVATE KEY-----\n"
	get := func(v string) func(string) string {
		return func(k string) string {
			if k == "STEPGATE_AUDIT_SIGNING_KEY" {
				return v
			}
			return ""
		}
	}
	if _, ok, err := envSigningKey(get("")); ok || err != nil {
		t.Fatalf("unset: ok %v err %v", ok, err)
	}
	key, ok, err := envSigningKey(get(pemKey))
	if !ok || err != nil || key == nil {
		t.Fatalf("set: ok %v err %v", ok, err)
	}
	pub, err := verifyPublicKey("", Config{DataDir: t.TempDir()}, get(pemKey))
	if err != nil || !pub.Equal(key.Public()) {
		t.Fatalf("verify's key: %v", err)
	}
	if _, ok, err := envSigningKey(get("not a key")); !ok || err == nil {
		t.Fatalf("garbage: ok %v err %v", ok, err)
	}
}
