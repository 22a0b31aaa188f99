package sqlstore_test

import (
	"testing"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/conformance"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

func TestConformance(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			conformance.RunTests(t, func(t testing.TB) storage.Store { return b.Open(t) })
		})
	}
}

func TestConcurrency(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Require(t)
			conformance.RunConcurrencyTests(t, func(t testing.TB) storage.Store { return b.Open(t) })
		})
	}
}
