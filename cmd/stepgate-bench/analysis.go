package main

// analysis is the part of the report that explains the numbers: where the
// time goes according to CPU profiles of a loaded server, so that a missed
// target says what is in the way. The profiles are not taken by this
// command (stepgate has no pprof endpoint); profileNotes records the last
// profiling session and how to repeat it.
func (b *bench) analysis() string {
	return profileNotes
}

const profileNotes = `
## Where the time goes (CPU profiles)

Taken with a copy of ` + "`cmd/stepgate`" + ` whose main wraps ` + "`run`" + ` in
` + "`pprof.StartCPUProfile`" + `, driven by this command's wrk script (cold and warm mixes, 16
connections, audit sync), after the audit append path moved off gorm and the request decoder
became a single-pass scanner. Shares of the server's CPU samples:

| | cold | warm |
|---|---:|---:|
| policy evaluation (OPA topdown: mostly the default policy's sprintf/object.union built-ins) | ≈ 40% | ≈ 33% |
| audit writer (` + "`sqlstore.AppendAudit`" + `: SQLite log pages ≈ 8%, statement parsing ≈ 7%, fsync ≈ 4%) | 29% | 33% |
| garbage collection | 8% | 7% |
| request decoding (` + "`pdphttp.DecodeJSON`" + `) | 1.1% | — |
| audited input (` + "`redactedInput`" + `) and response JSON | ≈ 1% each | ≈ 1% each |
| HTTP, echo and socket syscalls | the rest | the rest |

What this means for the targets:

- **Policy evaluation is the largest cost**, and OPA pays it too: both run the same Rego, so
  making the default policy cheaper (reasons are built with sprintf for every requirement,
  met or not) speeds both targets alike and moves the ratio little. In these profiles the
  decision cache only helped answers that did not name the user's age: a step_up reason such
  as "last authentication 3600s ago" changed every second, so those entries lived one second,
  which is why the warm mix still evaluated often. The reason now names auth_time instead
  ("last authentication at 2025-11-21T23:46:40Z, more than 900s ago"), so such entries live
  until the token changes (at most the cache's 300 s bound); the next profile should show
  less evaluation in the warm mix.
- **The audit trail is what stepgate does and OPA does not.** Every decision is a row
  appended to a hash chain and, in ` + "`sync`" + ` mode, committed before the answer. Sync batches
  never wait to grow (4–5 records on average here), so the writer commits almost
  continuously and uses about half a core however cheap each commit is; a 500 µs linger gave
  +25% throughput in one run but a worse p99, and was not kept. SQLite through the pure-Go
  driver re-parses every INSERT (it cannot cache prepared statements across commits).
- **The machine has two cores shared with wrk**, so every target competes with the load
  generator; compare the ratios of one run, not absolute numbers across runs.
`
