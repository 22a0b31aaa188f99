package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// NewStore opens a fresh, empty store; it registers its own cleanup.
type NewStore func(t testing.TB) storage.Store

type subTest struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

// RunTests runs the functional suite, each subtest on a fresh store.
func RunTests(t *testing.T, newStore NewStore) {
	t.Helper()
	var tests []subTest
	tests = append(tests, revisionTests()...)
	tests = append(tests, clientTests()...)
	tests = append(tests, stepUpTests()...)
	tests = append(tests, settingTests()...)
	tests = append(tests, auditTests()...)
	tests = append(tests, auditJournalTests()...)
	tests = append(tests, auditSearchTests()...)
	tests = append(tests, auditPagingTests()...)
	tests = append(tests, clientKeyTests()...)
	tests = append(tests, savedSearchTests()...)
	tests = append(tests, auditRetentionTests()...)
	tests = append(tests, logoutTests()...)
	tests = append(tests, elevationTests()...)
	tests = append(tests, cibaOfferTests()...)
	tests = append(tests, cibaRequestTests()...)
	tests = append(tests, adminSessionTests()...)
	tests = append(tests, adminUserTests()...)
	tests = append(tests, approvalTests()...)
	tests = append(tests, activationTests()...)
	tests = append(tests, auditStatsTests()...)
	tests = append(tests, atomicTests()...)
	runAll(t, newStore, tests)
}

// RunConcurrencyTests runs the suite of races, each on a fresh store.
func RunConcurrencyTests(t *testing.T, newStore NewStore) {
	t.Helper()
	runAll(t, newStore, concurrencyTests())
}

func runAll(t *testing.T, newStore NewStore, tests []subTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}

// baseTime is a fixed instant with sub-microsecond digits, to prove that
// stores normalise times to UTC microseconds.
func baseTime() time.Time {
	return time.Date(2025, 11, 20, 10, 30, 0, 123456789, time.FixedZone("JST", 9*3600))
}

// micro is what a store returns for t.
func micro(t time.Time) time.Time { return storage.NormalizeTime(t) }

func ctxFor(t testing.TB) context.Context {
	t.Helper()
	return t.Context()
}

func mustNoErr(t testing.TB, err error, op string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

func wantErr(t testing.TB, err, want error, op string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want %v", op, err, want)
	}
}

func sameTime(t testing.TB, got, want time.Time, field string) {
	t.Helper()
	if !got.Equal(micro(want)) {
		t.Errorf("%s = %v, want %v", field, got, micro(want))
	}
	if got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", field, got.Location())
	}
}
