// Package conformance is the behavioural contract of storage.Store: one suite
// that every backend must pass. A backend's test calls RunTests and
// RunConcurrencyTests with a function that opens a fresh, empty store; every
// subtest gets its own store, so subtests never see each other's data.
//
// RunTests covers each method's results and sentinel errors; the audit part
// checks chain assignment, search filters and keyset pagination, streaming
// export, verification and retention. RunConcurrencyTests starts real
// goroutines against one store to prove the guarantees that matter under
// load: a step-up transaction is consumed exactly once, one revision is
// active, and concurrent audit writers on different chains all verify.
package conformance
