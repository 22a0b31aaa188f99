// Package redact removes sensitive values from a policy input before it is
// stored in the audit trail, naming what it removed.
//
// The decision path renders the whole policy input (subject with its claims
// and AuthZEN properties, action, resource, context, client) as JSON and
// calls Object with the configured paths. Object walks the JSON bytes once,
// copying everything that no path names and leaving out what a path names,
// then appends a top-level "redacted" member listing the concrete paths
// removed. That member is part of the stored (and hashed) input, so an
// auditor sees what was left out of a record, and the record's hash covers
// the list.
//
// # Paths
//
// A path names values by their keys from the root of the input, separated
// by dots:
//
//	subject.claims.email           one claim
//	subject.properties.email       an AuthZEN subject property
//	context.card.number            a nested member of the context
//	context.cards.*.number         number in every element (or member) of cards
//	resource.properties.**.ssn     ssn at any depth under resource.properties
//	context.cards.0                the first element of an array
//
// A segment "*" matches any one key or array element; "**" matches any
// number of levels, none included (so a trailing "**" adds nothing: a.**
// names a, as a does). A decimal segment also matches that
// array index. A dot, star or backslash inside a key is escaped with a
// backslash (https://example\.com/email). Other globbing ("em*") is not
// supported.
//
// A bare name (one segment without wildcards, e.g. email) names a claim:
// it stands for subject.claims.**.email and subject.properties.**.email,
// so the claim is removed at any depth of the claims and of the AuthZEN
// subject properties, the two places identity attributes arrive. It does
// not reach the rest of the input, because common claim names are also
// input keys there (action.name). Write **.email for "anywhere".
//
// # What is removed
//
// A named object member is removed with its value, as the original
// redact_claims did, so that policies replayed over stored inputs (impact
// analysis) see the claim as absent rather than as a placeholder. A named
// array element is replaced by null, so the indices of the others, and the
// paths listed in "redacted", stay right. The list holds the concrete path
// of each removed value, in document order, with keys escaped as above; it
// is absent when nothing was removed.
package redact
