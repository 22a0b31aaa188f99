// Package admin holds the logic behind stepgate's administration: the policy
// lifecycle (push, validate, activate, roll back, diff, dry-run), API client
// management, the admin audit trail, and reading the whole trail (Trail:
// search, one decision's records, export, chain verification). Both the CLI
// (cmd/stepgate) and the web UI (admin/adminhttp) call it, so the UI reaches
// storage only through admin and an export of one filter is the same file
// from either; it knows nothing about HTTP or SQL dialects, and works on
// storage's plain types.
//
// Every change goes through one method that validates first, changes the
// store second and writes an admin audit record (actor, what, why) into the
// same tamper-evident trail as decisions. A change that cannot be audited is
// reported as an error.
package admin
