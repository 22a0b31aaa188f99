// Package admin holds the logic behind stepgate's administration: the policy
// lifecycle (push, validate, activate, roll back, diff, dry-run), API client
// management, admin people and sessions (password and SSO sign-in, roles),
// the dashboard, and the admin audit trail; reading the whole trail (search,
// export, verification) is its sub-package admin/trail. Both the CLI
// (cmd/stepgate) and the web UI (admin/adminhttp) call them, so the UI
// reaches storage only through admin; they know nothing about HTTP or SQL
// dialects, and work on storage's plain types.
//
// Every change goes through one method that validates first, changes the
// store second and writes an admin audit record (actor, what, why) into the
// same tamper-evident trail as decisions. A change that cannot be audited is
// reported as an error.
package admin
