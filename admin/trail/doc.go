// Package trail reads stepgate's audit trail for people: search with the
// admin UI's filters (including whether a decision's authentication counted
// as MFA, read from its recorded input), one decision's records with the
// flow events that followed it, admin activity, chain verification, and the
// one export (CSV for people and spreadsheets, with formula-like cells
// defused; NDJSON with the exact hashed bytes for offline verification)
// that both `stepgate audit export` and the admin UI serve, so one filter
// gives the same file from either.
//
// It works on storage's plain types and knows nothing of HTTP; the admin
// UI (admin/adminhttp) and the CLI (cmd/stepgate) call it, so neither
// reaches storage for the trail on its own.
package trail
