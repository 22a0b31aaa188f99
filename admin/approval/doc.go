// Package approval runs four-eyes activation: with admin.require_approval
// set, an admin's activation or rollback in the UI is a request, and
// nothing goes live until a different admin approves it.
//
// The flow: Request validates the revision as an activation would (it
// compiles and its tests pass), stores a pending request naming the
// revision, the one active at the time, the requester and the reason, and
// records it. Another admin opens the request, sees the change from the
// active revision (diff, table summary, impact on recent decisions) and
// Approves or Rejects it with a reason of their own. Approve refuses the
// requester themselves (the same actor: the same local account, or the
// same IdP issuer and subject, whatever its label), a request decided or
// expired already, and a request whose page showed another active
// revision than the one active now; otherwise the approval, the
// activation and both their records commit in one transaction. Requests
// expire after Config.TTL; Expire marks them so (recording each), and runs
// before every read and decision so that an expired request is never
// approved.
//
// Every step (request, approval, rejection, expiry, and each refusal) is
// in the admin audit trail, and the revision's timeline names the
// requester as activator and the approver beside them.
package approval
