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
` + "`pprof.StartCPUProfile`" + `, driven by this command's wrk script for 8 s (cold and warm
mixes, 16 connections), and ` + "`go test -cpuprofile`" + ` on ` + "`BenchmarkDecide`" + ` /
` + "`BenchmarkDecisionCache`" + ` in ` + "`pdp`" + `. Shares of the server's CPU samples:

| | cold, audit sync | cold, audit async | warm, audit sync |
|---|---:|---:|---:|
| audit writer (` + "`storage/audit.(*Writer).run`" + ` → ` + "`sqlstore.AppendAudit`" + `: chain-head SELECT, gorm CreateInBatches, SQLite VDBE, commit) | 31% | 34% | 43% |
| HTTP (net/http, echo, ` + "`pdphttp`" + ` decoding ≈ 3–4%) and socket syscalls | ≈ 35% | ≈ 35% | ≈ 40% |
| ` + "`pdp.(*Service).decide`" + ` in all | 16% | 14% | 9% |
| of which policy evaluation (` + "`Policy.Eval`" + `: OPA topdown, mostly the policy's sprintf/object.union built-ins) | 14% | 12% | 7% |
| of which the audited input (` + "`redactedInput`" + `: JSON + SHA-256) | 2% | 1% | 2% |
| GC | 10% | 6% | 11% |

What this means for the targets:

- **The decision core is no longer the bottleneck.** One uncached evaluation of the default
  policy costs ≈ 190 µs on this (shared, loaded) machine and ≈ 820 allocations, all inside
  OPA's evaluator; with the decision cache a repeated input costs ≈ 1.1 µs and 3 allocations
  (` + "`BenchmarkDecisionCache/hit`" + `), and ` + "`BenchmarkDecide`" + ` (warm token and claims paths) fell
  from ≈ 190 µs / 850 allocs to ≈ 11–13 µs / 36–40 allocs. Key encoding plus store on a miss
  adds ≈ 2–3 µs.
- **The audit trail is.** Every decision is one row appended to a hash chain in SQLite through
  gorm; the writer's commit path uses more CPU than everything else stepgate does for the
  decision, and in ` + "`sync`" + ` mode each request also waits for its batch's commit, so
  throughput is bounded by connections ÷ commit latency. OPA in this comparison records
  nothing. Closing the gap needs work in ` + "`storage/sqlstore`" + ` (prepared multi-row INSERT
  without gorm reflection, the chain head kept in memory instead of re-read per batch, fewer
  fsyncs per second) — outside this benchmark's files.
- **The machine is shared.** Other builds and test suites ran during the measurements (see
  the load average above); every target lost cores to them, so compare the ratios of one run,
  not absolute numbers across runs.
`
