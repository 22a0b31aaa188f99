package schema

// migration is one step of the schema. Versions are applied in ascending
// order, each exactly once, and never edited after release: a schema change
// is a new migration appended to the list.
type migration struct {
	version int
	name    string
	// stmts run in order. {{pk}} and {{blob}} are replaced per dialect.
	stmts []string
}

// migrations is the schema history. Timestamps are BIGINT Unix microseconds.
var migrations = []migration{
	{
		version: 1,
		name:    "revisions, clients, step-up transactions, settings",
		stmts: []string{
			`CREATE TABLE policy_revisions (
				id {{pk}},
				bundle {{blob}} NOT NULL,
				hash TEXT NOT NULL,
				author TEXT NOT NULL DEFAULT '',
				message TEXT NOT NULL DEFAULT '',
				state TEXT NOT NULL CHECK (state IN ('draft', 'active', 'archived')),
				created_at BIGINT NOT NULL,
				activated_at BIGINT,
				activated_by TEXT NOT NULL DEFAULT ''
			)`,
			// At most one active revision, enforced by the database itself.
			`CREATE UNIQUE INDEX policy_revisions_one_active ON policy_revisions (state) WHERE state = 'active'`,
			`CREATE TABLE clients (
				id TEXT PRIMARY KEY,
				key_hash TEXT NOT NULL,
				name TEXT NOT NULL DEFAULT '',
				assert_claims BOOLEAN NOT NULL DEFAULT FALSE,
				return_to TEXT NOT NULL DEFAULT '[]',
				disabled BOOLEAN NOT NULL DEFAULT FALSE,
				created_at BIGINT NOT NULL
			)`,
			`CREATE UNIQUE INDEX clients_key_hash ON clients (key_hash)`,
			`CREATE TABLE step_up_transactions (
				id TEXT PRIMARY KEY,
				client_id TEXT NOT NULL DEFAULT '',
				issuer TEXT NOT NULL DEFAULT '',
				client_app_id TEXT NOT NULL DEFAULT '',
				state TEXT NOT NULL DEFAULT '',
				nonce TEXT NOT NULL DEFAULT '',
				code_verifier TEXT NOT NULL DEFAULT '',
				decision_id TEXT NOT NULL DEFAULT '',
				subject TEXT NOT NULL DEFAULT '',
				return_to TEXT NOT NULL DEFAULT '',
				action TEXT NOT NULL DEFAULT '',
				requirements {{blob}},
				issued_at BIGINT NOT NULL,
				expires_at BIGINT NOT NULL,
				used_at BIGINT
			)`,
			`CREATE INDEX step_up_transactions_expires_at ON step_up_transactions (expires_at)`,
			`CREATE TABLE settings (
				name TEXT PRIMARY KEY,
				value TEXT NOT NULL
			)`,
		},
	},
	{
		version: 2,
		name:    "hash-chained audit trail",
		stmts: []string{
			// The head of every chain: locked while a batch is appended, and
			// the reference that reveals deleted tail records.
			`CREATE TABLE audit_chains (
				chain_id TEXT PRIMARY KEY,
				last_seq BIGINT NOT NULL,
				last_hash TEXT NOT NULL
			)`,
			`CREATE TABLE audit_records (
				id {{pk}},
				chain_id TEXT NOT NULL,
				seq BIGINT NOT NULL,
				ts BIGINT NOT NULL,
				kind TEXT NOT NULL,
				decision_id TEXT NOT NULL DEFAULT '',
				request_id TEXT NOT NULL DEFAULT '',
				client_id TEXT NOT NULL DEFAULT '',
				subject TEXT NOT NULL DEFAULT '',
				issuer TEXT NOT NULL DEFAULT '',
				action TEXT NOT NULL DEFAULT '',
				resource_type TEXT NOT NULL DEFAULT '',
				resource_id TEXT NOT NULL DEFAULT '',
				outcome TEXT NOT NULL DEFAULT '',
				reasons TEXT NOT NULL DEFAULT '[]',
				policy_revision BIGINT NOT NULL DEFAULT 0,
				policy_hash TEXT NOT NULL DEFAULT '',
				latency_micros BIGINT NOT NULL DEFAULT 0,
				input {{blob}},
				input_digest TEXT NOT NULL DEFAULT '',
				step_up_id TEXT NOT NULL DEFAULT '',
				ciba_id TEXT NOT NULL DEFAULT '',
				actor TEXT NOT NULL DEFAULT '',
				detail {{blob}},
				prev_hash TEXT NOT NULL,
				hash TEXT NOT NULL
			)`,
			`CREATE UNIQUE INDEX audit_records_chain_seq ON audit_records (chain_id, seq)`,
			// Keyset pagination runs newest first on (ts, id); each filter
			// column leads an index ending in (ts, id) so a filtered first
			// page is an index range scan, not a sort.
			`CREATE INDEX audit_records_ts ON audit_records (ts, id)`,
			`CREATE INDEX audit_records_client ON audit_records (client_id, ts, id)`,
			`CREATE INDEX audit_records_subject ON audit_records (subject, ts, id)`,
			`CREATE INDEX audit_records_action ON audit_records (action, ts, id)`,
			`CREATE INDEX audit_records_outcome ON audit_records (outcome, ts, id)`,
			`CREATE INDEX audit_records_revision ON audit_records (policy_revision, ts, id)`,
			`CREATE INDEX audit_records_kind ON audit_records (kind, ts, id)`,
			`CREATE INDEX audit_records_decision ON audit_records (decision_id)`,
		},
	},
	{
		version: 3,
		name:    "admin UI sessions",
		stmts: []string{
			// Admin sessions and pending SSO logins; key_hash is the SHA-256
			// of the cookie value, data is opaque to storage.
			`CREATE TABLE admin_sessions (
				key_hash TEXT PRIMARY KEY,
				data {{blob}} NOT NULL,
				expires_at BIGINT NOT NULL
			)`,
			`CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at)`,
		},
	},
	{
		version: 4,
		name:    "CIBA offers and requests, session elevations",
		stmts: []string{
			// What a `ciba` decision left for POST /v1/ciba; started once.
			`CREATE TABLE ciba_offers (
				id TEXT PRIMARY KEY,
				decision_id TEXT NOT NULL DEFAULT '',
				client_id TEXT NOT NULL DEFAULT '',
				issuer TEXT NOT NULL DEFAULT '',
				subject TEXT NOT NULL DEFAULT '',
				action TEXT NOT NULL DEFAULT '',
				request {{blob}},
				requirements {{blob}},
				created_at BIGINT NOT NULL,
				expires_at BIGINT NOT NULL,
				started_at BIGINT
			)`,
			`CREATE INDEX ciba_offers_decision ON ciba_offers (decision_id)`,
			`CREATE INDEX ciba_offers_created_at ON ciba_offers (created_at)`,
			// Backchannel requests being polled; the lease (owner, until)
			// lets exactly one replica poll each.
			`CREATE TABLE ciba_requests (
				id TEXT PRIMARY KEY,
				decision_id TEXT NOT NULL DEFAULT '',
				issuer TEXT NOT NULL DEFAULT '',
				auth_req_id TEXT NOT NULL DEFAULT '',
				status TEXT NOT NULL,
				interval_micros BIGINT NOT NULL DEFAULT 0,
				next_poll_at BIGINT,
				expires_at BIGINT,
				lease_owner TEXT NOT NULL DEFAULT '',
				lease_until BIGINT,
				id_token TEXT NOT NULL DEFAULT '',
				claims {{blob}},
				error TEXT NOT NULL DEFAULT '',
				created_at BIGINT NOT NULL,
				updated_at BIGINT NOT NULL
			)`,
			`CREATE INDEX ciba_requests_pending ON ciba_requests (status, next_poll_at)`,
			`CREATE INDEX ciba_requests_created_at ON ciba_requests (created_at)`,
			// Sessions elevated by a verified step-up ("MFA once per session").
			`CREATE TABLE session_elevations (
				client_id TEXT NOT NULL,
				session_id TEXT NOT NULL,
				issuer TEXT NOT NULL DEFAULT '',
				subject TEXT NOT NULL DEFAULT '',
				sid TEXT NOT NULL DEFAULT '',
				methods TEXT NOT NULL DEFAULT '[]',
				acr TEXT NOT NULL DEFAULT '',
				auth_time BIGINT NOT NULL,
				decision_id TEXT NOT NULL DEFAULT '',
				step_up_id TEXT NOT NULL DEFAULT '',
				created_at BIGINT NOT NULL,
				expires_at BIGINT NOT NULL,
				PRIMARY KEY (client_id, session_id)
			)`,
			`CREATE INDEX session_elevations_sid ON session_elevations (issuer, sid)`,
			`CREATE INDEX session_elevations_subject ON session_elevations (issuer, subject)`,
			`CREATE INDEX session_elevations_expires_at ON session_elevations (expires_at)`,
		},
	},
	{
		version: 5,
		name:    "session logout marks",
		stmts: []string{
			// Sessions ended by a back-channel logout or a client's
			// revocation; replicas follow new rows by id.
			`CREATE TABLE session_logouts (
				id {{pk}},
				issuer TEXT NOT NULL DEFAULT '',
				sid TEXT NOT NULL DEFAULT '',
				subject TEXT NOT NULL DEFAULT '',
				client_id TEXT NOT NULL DEFAULT '',
				session_id TEXT NOT NULL DEFAULT '',
				jti TEXT NOT NULL DEFAULT '',
				ended_at BIGINT NOT NULL,
				created_at BIGINT NOT NULL,
				expires_at BIGINT NOT NULL
			)`,
			`CREATE INDEX session_logouts_expires_at ON session_logouts (expires_at)`,
		},
	},
	{
		version: 6,
		name:    "named admin users, four-eyes approvals, revision activation timeline",
		stmts: []string{
			// Local admin UI accounts; the bootstrap admin is the row named
			// "admin", moved here from its settings entry.
			`CREATE TABLE admin_users (
				name TEXT PRIMARY KEY,
				role TEXT NOT NULL CHECK (role IN ('admin', 'auditor')),
				password_hash TEXT NOT NULL,
				disabled BOOLEAN NOT NULL DEFAULT FALSE,
				version BIGINT NOT NULL DEFAULT 1,
				created_at BIGINT NOT NULL,
				created_by TEXT NOT NULL DEFAULT '',
				updated_at BIGINT NOT NULL
			)`,
			`INSERT INTO admin_users (name, role, password_hash, disabled, version, created_at, created_by, updated_at)
				SELECT 'admin', 'admin', value, FALSE, 1, 0, 'system:bootstrap', 0
				FROM settings WHERE name = 'admin.bootstrap_password_hash'`,
			`DELETE FROM settings WHERE name = 'admin.bootstrap_password_hash'`,
			// Activations and rollbacks waiting for a second admin.
			`CREATE TABLE policy_approvals (
				id {{pk}},
				kind TEXT NOT NULL CHECK (kind IN ('activate', 'rollback')),
				revision_id BIGINT NOT NULL REFERENCES policy_revisions (id),
				base_revision_id BIGINT NOT NULL DEFAULT 0,
				status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
				requested_by TEXT NOT NULL,
				requested_label TEXT NOT NULL DEFAULT '',
				reason TEXT NOT NULL DEFAULT '',
				requested_at BIGINT NOT NULL,
				expires_at BIGINT NOT NULL,
				decided_by TEXT NOT NULL DEFAULT '',
				decided_label TEXT NOT NULL DEFAULT '',
				decision_reason TEXT NOT NULL DEFAULT '',
				decided_at BIGINT
			)`,
			`CREATE INDEX policy_approvals_status ON policy_approvals (status, expires_at)`,
			// Every period a revision was active: opened by an activation,
			// closed by the next one.
			`CREATE TABLE policy_activations (
				id {{pk}},
				revision_id BIGINT NOT NULL REFERENCES policy_revisions (id),
				kind TEXT NOT NULL DEFAULT '',
				activated_at BIGINT NOT NULL,
				activated_by TEXT NOT NULL DEFAULT '',
				activated_label TEXT NOT NULL DEFAULT '',
				reason TEXT NOT NULL DEFAULT '',
				approval_id BIGINT NOT NULL DEFAULT 0,
				approved_by TEXT NOT NULL DEFAULT '',
				approved_label TEXT NOT NULL DEFAULT '',
				ended_at BIGINT
			)`,
			`CREATE INDEX policy_activations_revision ON policy_activations (revision_id, activated_at)`,
			`CREATE INDEX policy_activations_at ON policy_activations (activated_at)`,
			// Revisions activated before the timeline existed keep their last
			// activation, ended by the next revision's.
			`INSERT INTO policy_activations (revision_id, kind, activated_at, activated_by, ended_at)
				SELECT r.id, 'earlier', r.activated_at, r.activated_by,
					(SELECT MIN(n.activated_at) FROM policy_revisions n WHERE n.activated_at > r.activated_at)
				FROM policy_revisions r WHERE r.activated_at IS NOT NULL ORDER BY r.activated_at`,
		},
	},
	{
		version: 7,
		name:    "case-insensitive audit search, client key overlap and use, saved searches",
		stmts: []string{
			// Subject and action match case-insensitively by prefix: a range
			// on lower(col) in byte order ({{bytewise}}), which these indexes
			// serve on both backends; lower() of the pattern runs in the same
			// database, so column and pattern fold alike.
			`CREATE INDEX audit_records_subject_fold ON audit_records (lower(subject){{bytewise}}, ts, id)`,
			`CREATE INDEX audit_records_action_fold ON audit_records (lower(action){{bytewise}}, ts, id)`,
			// A rotated key stays valid until previous_key_expires_at; the
			// use times are written at most once a minute per client.
			`ALTER TABLE clients ADD COLUMN previous_key_hash TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE clients ADD COLUMN previous_key_expires_at BIGINT`,
			`ALTER TABLE clients ADD COLUMN key_created_at BIGINT`,
			`ALTER TABLE clients ADD COLUMN last_used_at BIGINT`,
			`ALTER TABLE clients ADD COLUMN previous_key_last_used_at BIGINT`,
			`UPDATE clients SET key_created_at = created_at`,
			`CREATE UNIQUE INDEX clients_previous_key_hash ON clients (previous_key_hash) WHERE previous_key_hash <> ''`,
			// Audit searches people saved, per admin identity.
			`CREATE TABLE saved_searches (
				id {{pk}},
				owner TEXT NOT NULL,
				name TEXT NOT NULL,
				query TEXT NOT NULL,
				created_at BIGINT NOT NULL
			)`,
			`CREATE UNIQUE INDEX saved_searches_owner_name ON saved_searches (owner, name)`,
		},
	},
	{
		version: 8,
		name:    "audit journal positions",
		stmts: []string{
			// How far each local audit journal (storage/journal, one per
			// process and data directory, named by its random id) has been
			// committed into audit_records: moved in the same transaction
			// as the records, so a restart replays exactly what is missing.
			`CREATE TABLE audit_journal_positions (
				journal_id TEXT PRIMARY KEY,
				position BIGINT NOT NULL,
				updated_at BIGINT NOT NULL
			)`,
		},
	},
	{
		version: 9,
		name:    "drop the plain audit subject and action indexes",
		stmts: []string{
			// Every record written pays a B-tree insertion per index. Exact
			// subject and action searches match lower(col) first and are
			// served by the migration-7 fold indexes, which have the same
			// (ts, id) tail, so these two only cost writes.
			`DROP INDEX audit_records_subject`,
			`DROP INDEX audit_records_action`,
		},
	},
}
