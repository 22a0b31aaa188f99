package main

import (
	"testing"

	"github.com/stepgate/stepgate/pdp/ciba/backchannel"
	"github.com/stepgate/stepgate/pdp/ciba/backchannel/backchanneltest"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// TestCIBARequestsConformance runs the backchannel.Store contract against
// SQLite and PostgreSQL through the adapter.
func TestCIBARequestsConformance(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			backchanneltest.RunStoreConformance(t, func(t testing.TB) backchannel.Store {
				return cibaRequestStore{Backend: b.Open(t)}
			})
		})
	}
}
