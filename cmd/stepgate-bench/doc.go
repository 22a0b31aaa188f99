// Command stepgate-bench measures stepgate side by side with OPA's server
// and a no-op HTTP server, on the same machine, in the same run, with the
// same requests, and writes the results to BENCHMARKS.md.
//
//	go run ./cmd/stepgate-bench            # full run, 10 s per workload
//	go run ./cmd/stepgate-bench --quick    # a few seconds per workload
//
// Data flow: the command builds stepgate (go build ./cmd/stepgate) and OPA
// (go build github.com/open-policy-agent/opa, from the module in go.mod)
// into a temporary directory, starts an in-process OIDC discovery + JWKS
// server whose keys mint the RS256/ES256 tokens of the token workloads, and
// for every workload, policy and target:
//
//  1. writes the workload's request bodies (one per line, the same mix for
//     every target, wrapped in each target's request shape) to a file;
//  2. starts a fresh target process (stepgate on a fresh SQLite data dir
//     with the measured policy pushed and activated by its CLI, OPA with the
//     same bundle plus a small wrapper module, with or without console
//     decision logs, or the no-op server, which is this binary re-executed),
//     so that CPU time and peak RSS belong to that workload alone;
//  3. sends a sample of the requests to stepgate and OPA and stops if their
//     decisions differ;
//  4. drives the target with wrk (Debian package `wrk`) through a Lua script
//     that cycles through the bodies, and reads /proc/<pid>/stat and
//     /proc/<pid>/status for CPU time and VmHWM;
//  5. stops the target gracefully (stepgate drains its audit queue).
//
// The cold, warm, latency and names workloads run on every policy of
// --policies: the default bundle (policies/) and three the harness was never
// tuned to, embedded from policies/ beside this file (policies.go: a new
// user's step-up policy, RBAC with hundreds of roles, ABAC on resource
// attributes); the others measure stepgate's own machinery on the default.
// The forward workload (forward.go) measures /v1/forward-auth, a reverse
// proxy's subrequest, beside /v1/decision asked the same decisions by the
// same proxy client, after checking that both answer a sample alike.
//
// The results are printed as they arrive and rendered as Markdown with the
// machine, the versions, the exact command, the targets of issues 7 and 14,
// and, with --profile, where stepgate's CPU went in every run (analysis.go).
package main
