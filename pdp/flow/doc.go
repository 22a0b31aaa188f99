// Package flow declares the audit events of what happens after a decision
// and because of it — a step-up verified or refused, a CIBA request started
// and ended, a session elevated, revoked or ended by a logout — and the
// Auditor interface they are recorded through. The decision service, the
// CIBA runner and session handling produce them; cmd/stepgate adapts the
// Auditor to the audit writer, which links each record to its decision.
package flow
