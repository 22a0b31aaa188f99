// Package enrollment finds out whether a user can approve a CIBA request,
// that is whether a push-capable authenticator is enrolled for them at the
// identity provider, so that a policy can answer `ciba` only where the user
// can approve and `step_up` elsewhere.
//
// A Source asks one place: Auth0's Management API (the user's confirmed
// authentication methods, read with a client-credentials token that is
// cached until shortly before it expires and fetched again once on a 401),
// an HTTP lookup that answers {"push": true|false}, or nobody (Assume,
// "every user is enrolled"). A Checker puts a Source behind a per-user cache
// with a short TTL, one lookup per user at a time (later callers share the
// first one's answer), a time budget so that a slow lookup never holds a
// decision longer than the budget, and a pause when the source answers 429:
// until its Retry-After has passed nothing is asked and the answer is
// Unknown. Every failure is Unknown with a reason, never Capable; what the
// decision does with Unknown is the policy's call (the default policy steps
// up).
//
// Issuers holds one Checker per configured issuer, built from
// trust.EnrollmentConfig; pdp asks it only when the active policy's answer
// depends on input.subject.authn.ciba_capable.
package enrollment
