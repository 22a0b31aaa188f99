// Package admin holds the logic behind stepgate's administration: the policy
// lifecycle (push, validate, activate, roll back, diff, dry-run), API client
// management, admin people and sessions (password and SSO sign-in, roles),
// the dashboard, and the admin audit trail; reading the whole trail (search,
// export, verification) is its sub-package admin/trail. Both the CLI
// (cmd/stepgate) and the web UI (admin/adminhttp) call them, so the UI
// reaches storage only through admin; they know nothing about HTTP or SQL
// dialects, and work on storage's plain types.
//
// Every change goes through one method that validates first, then changes
// the store and appends its admin audit record (actor, what, why) in one
// store transaction (storage.Store's Atomic), on the chain of the process's
// audit writer: the change and its record commit together or not at all, so
// a change that cannot be recorded is not made (ErrUnrecorded). In-process
// side effects (the engine's hot swap, the client cache) run after the
// commit. Events that change nothing in the store, such as sign-ins, failed
// sign-ins, sign-outs and refused actions with their reason, are recorded
// through the audit writer (Recorder); a sign-in that cannot be recorded
// fails.
//
// The actor of a record is the verified identity: "ISSUER|SUBJECT" for
// single sign-on (SSOActor), the account name for a local password
// account (LocalActor; LocalAdmin, "admin", for the bootstrap one, see
// admin/users), "cli:USER" for the command line and "system:…" for
// stepgate itself. How people know the actor (an e-mail address) is only a
// label, kept in the record's Detail as "actor_label"; refusals and
// failures carry their reason in Reasons and in Detail as "error".
package admin
