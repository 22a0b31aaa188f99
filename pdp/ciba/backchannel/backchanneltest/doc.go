// Package backchanneltest holds the conformance suite every
// backchannel.Store implementation must pass: the in-memory store runs it in
// package backchannel's tests, the SQL store in package storage's tests
// (against SQLite and PostgreSQL). Each subtest gets a fresh store from the
// factory it is given.
package backchanneltest
