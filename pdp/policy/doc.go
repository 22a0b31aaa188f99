// Package policy is stepgate's policy engine: it compiles a revision (Rego
// modules and data in the OPA bundle layout) once, evaluates the decision
// entrypoint data.stepgate.decision for one Input, and swaps the active
// revision atomically (a failed compile keeps the last good one).
//
// It owns the policy contract both ways: the Input document (AuthZEN
// entities, subject.authn normalised by NormalizeAuthn, now, client) and
// the Result (Outcome, reasons, Requirements, a CIBA binding-message hint);
// an undefined or malformed decision is a deny.
//
// What makes evaluation fast lives here too, and each piece is correct for
// every policy, not only the default one: one compiler and store per
// revision that every prepared query shares, per-action specialisation of
// the prepared query (specialize.go), an input built from only the fields
// the policy reads (input_reads.go), and a decision cache of Results keyed
// on those fields (decisioncache*.go). An entry lives one second, because
// now is part of the input, unless the policy cannot see the clock at all
// or the result itself declares how long it holds (valid_for). Every cache
// is bounded in entries, however many distinct inputs or action names
// clients send.
//
// The package knows nothing of tokens, step-up, CIBA, HTTP or storage; the
// decision service (package pdp) builds the Input and shapes the answer.
package policy
