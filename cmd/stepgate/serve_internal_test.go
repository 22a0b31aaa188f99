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
