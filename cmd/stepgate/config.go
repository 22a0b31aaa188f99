package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/redact"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Config is stepgate's configuration: an optional YAML file (--config FILE
// or STEPGATE_CONFIG) overridden by environment variables. Keys follow the
// configuration contract in DESIGN.md; defaults are in the field comments.
type Config struct {
	// DecisionAddr is the decision API listener; default 127.0.0.1:8710.
	DecisionAddr string `yaml:"decision_addr"`
	// AdminAddr is the admin UI and API listener; default 127.0.0.1:8711.
	AdminAddr string `yaml:"admin_addr"`
	// DataDir holds the SQLite database; default ./data.
	DataDir string `yaml:"data_dir"`
	// DatabaseURL empty means SQLite in DataDir; postgres://… means PostgreSQL.
	DatabaseURL string `yaml:"database_url"`
	// ExternalURL is the decision API's public base URL (AuthZEN discovery).
	// Without it discovery is served only to requests whose Host is the
	// listener's own address, and is never cached.
	ExternalURL string               `yaml:"external_url"`
	Audit       AuditConfig          `yaml:"audit"`
	Issuers     []trust.IssuerConfig `yaml:"issuers"`
	Clients     []ClientConfig       `yaml:"clients"`
	Decision    DecisionConfig       `yaml:"decision"`
	Admin       AdminConfig          `yaml:"admin"`
	Readiness   ReadinessConfig      `yaml:"readiness"`
	// LogLevel is debug, info, warn or error; default info.
	LogLevel string `yaml:"log_level"`
	// ForwardAuth turns on /v1/forward-auth for a reverse proxy; nil: off.
	ForwardAuth *ForwardAuthConfig `yaml:"forward_auth"`
}

// AuditConfig configures the audit writer.
type AuditConfig struct {
	// Mode is sync (answer after commit, the default) or async.
	Mode string `yaml:"mode"`
	// QueueSize bounds queued records; default 10000.
	QueueSize int `yaml:"queue_size"`
	// MaxDelay bounds how long async records wait for commit; default 50ms.
	// While the database fails, async decisions are denied (audit_unavailable)
	// once the oldest unrecorded one is older than 4 × MaxDelay
	// (audit.DefaultStallFactor) or the queue is full.
	MaxDelay time.Duration `yaml:"max_delay"`
	// SyncLinger bounds how long a sync commit waits for decisions already
	// being evaluated, so they share it; default 1ms, negative: never wait.
	SyncLinger time.Duration `yaml:"sync_linger"`
	// EnqueueTimeout is how long a decision waits on a full queue before
	// failing closed; default 2s.
	EnqueueTimeout time.Duration `yaml:"enqueue_timeout"`
	// RedactClaims names claims left out of audited inputs, in addition to
	// the defaults (email, name, given_name, family_name, phone_number,
	// address, birthdate). Each is removed at any depth of subject.claims
	// and of the AuthZEN subject.properties, not elsewhere (so "name" keeps
	// action.name). A dot in a claim name is escaped: https://ex\.com/email.
	RedactClaims []string `yaml:"redact_claims"`
	// Redact lists JSON paths left out of audited inputs, in addition to
	// the claims: dotted from the root of the policy input, "*" for any
	// one key or array element, "**" for any number of levels, e.g.
	// subject.properties.ssn, context.card.number, context.cards.*.number,
	// **.iban (anywhere). A bare name is a claim name, as in redact_claims.
	// A removed member is dropped, a removed array element becomes null,
	// and the stored input lists the removed paths in its top-level
	// "redacted" member, which its hash covers (see package pdp/redact).
	Redact []string `yaml:"redact"`
	// RedactKeepDefaults false drops the default claim names, leaving only
	// redact_claims and redact; default true. Setting redact_claims never
	// drops them: an added name must not silently un-redact the e-mail.
	RedactKeepDefaults *bool `yaml:"redact_keep_defaults"`
	// SpillDir receives, at shutdown, the acknowledged async records the
	// database did not take in time (audit-spill-*.ndjson), replayed at the
	// next start, and the lost file naming records written nowhere; `audit
	// verify` reports both. Default the data_dir (STEPGATE_AUDIT_SPILL_DIR).
	// It must not be inside the database.
	SpillDir string `yaml:"spill_dir"`
	// JournalDir holds the local audit journal: a decision's record is
	// durable once it is there (checksummed segments, one fdatasync per
	// group of decisions), and the database is filled from it in the
	// background within milliseconds, so audit search lags the answers by
	// that much. Default <data_dir>/audit-journal (STEPGATE_AUDIT_JOURNAL_DIR);
	// "off" commits every record to the database before answering, as
	// before the journal. Each replica needs its own, on a disk it keeps:
	// a replica whose journal disk is lost loses the records it journaled
	// and had not yet indexed (at most journal_backlog).
	JournalDir string `yaml:"journal_dir"`
	// JournalBacklog bounds the journaled records waiting for the
	// database; beyond it decisions fail closed (audit_unavailable).
	// Default 50000.
	JournalBacklog int `yaml:"journal_backlog"`
	// IndexLead bounds how far the journal runs ahead of a database that
	// keeps up: beyond it decisions wait for the index, so a sustained load
	// runs at the rate the database indexes. While the database fails, the
	// journal runs ahead up to journal_backlog. Default 8000 (four index
	// batches), at most journal_backlog.
	IndexLead int `yaml:"index_lead"`
	// RetentionDays, when positive, makes serve delete audit records older
	// than this many days once a day (checkpoints keep the chain verifiable).
	// Default 0: keep everything.
	RetentionDays int `yaml:"retention_days"`
	// ChainID names this replica's hash chain; default the host name.
	// Replicas sharing a database need distinct ids (STEPGATE_AUDIT_CHAIN_ID).
	ChainID string `yaml:"chain_id"`
	// Checkpoint anchors the chains outside the database.
	Checkpoint CheckpointConfig `yaml:"checkpoint"`
}

// CheckpointConfig configures the signed checkpoints that anchor the audit
// chains outside the database (see README, "Audit trail").
type CheckpointConfig struct {
	// KeyFile is the Ed25519 signing key (PKCS#8 PEM). Default
	// <data_dir>/audit-signing.key, generated on first start with a warning
	// (STEPGATE_AUDIT_SIGNING_KEY_FILE). Production keeps it elsewhere.
	KeyFile string `yaml:"key_file"`
	// Interval is how often the chain heads are signed while they change;
	// default 1s. "off" (STEPGATE_AUDIT_CHECKPOINT_INTERVAL=off) or a
	// negative value disables checkpoints (benchmarks only).
	Interval time.Duration `yaml:"interval"`
	// WitnessFile is the append-only file each checkpoint is appended to;
	// default <data_dir>-witness/checkpoints.jsonl, beside the data dir
	// (STEPGATE_AUDIT_WITNESS_FILE).
	WitnessFile string `yaml:"witness_file"`
	// WitnessURL, when set, also receives each checkpoint as a JSON POST
	// (STEPGATE_AUDIT_WITNESS_URL).
	WitnessURL string `yaml:"witness_url"`
	// Log also writes each checkpoint to the structured log, so that a SIEM
	// keeps a copy; default true.
	Log *bool `yaml:"log"`
}

// DecisionConfig tunes the decision path.
type DecisionConfig struct {
	// MaxBodyBytes limits request bodies; default 65536.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Timeout is the per-decision policy deadline; default 500ms.
	Timeout time.Duration `yaml:"timeout"`
	// TokenLeeway is the clock leeway for exp/nbf/iat; default 30s.
	TokenLeeway time.Duration `yaml:"token_leeway"`
	// StepUpTTL is how long a step-up transaction lives; default 10m.
	StepUpTTL time.Duration `yaml:"stepup_ttl"`
	// CIBARequestedExpiry in seconds; default 300.
	CIBARequestedExpiry int `yaml:"ciba_requested_expiry"`
	// RevisionPoll is how often the active revision is re-read from the
	// store (replicas pick up activations this way); default 250ms. Logout
	// marks other replicas stored are read on the same cadence.
	RevisionPoll time.Duration `yaml:"revision_poll"`
	// LogoutRetention is how long a session ended by a back-channel logout
	// or a revocation stays ended for decisions (and its mark is kept);
	// default 720h (30 days). It should outlive the tokens of the session.
	LogoutRetention time.Duration `yaml:"logout_retention"`
}

// ReadinessConfig tunes what /readyz reports (see package pdp/readiness).
type ReadinessConfig struct {
	// Interval is how often the store is pinged while every check is ok;
	// default 5s. FailingInterval is how often while a check fails (the
	// audit trail is also re-tried then); default 1s.
	Interval        time.Duration `yaml:"interval"`
	FailingInterval time.Duration `yaml:"failing_interval"`
	// PolicyWindow and PolicyMinErrors: policy_evaluations fails when,
	// within PolicyWindow, at least PolicyMinErrors evaluations failed and
	// no decision succeeded. Defaults 1m and 20.
	PolicyWindow    time.Duration `yaml:"policy_window"`
	PolicyMinErrors int           `yaml:"policy_min_errors"`
}

// AdminConfig configures the admin UI.
type AdminConfig struct {
	// SSO signs admins in with OpenID Connect; without it the bootstrap
	// admin password form is used.
	SSO *AdminSSOConfig `yaml:"sso"`
	// SecureCookies marks session cookies Secure; set it when the admin UI
	// is served over TLS (directly or behind a proxy). Default false.
	SecureCookies bool `yaml:"secure_cookies"`
	// IdleTimeout (default 30m) and AbsoluteTimeout (default 12h) end sessions.
	IdleTimeout     time.Duration `yaml:"idle_timeout"`
	AbsoluteTimeout time.Duration `yaml:"absolute_timeout"`
	// TrustedProxies are the reverse proxies in front of the admin UI, as
	// CIDRs or single addresses (STEPGATE_ADMIN_TRUSTED_PROXIES, comma
	// separated). Only a connection from one of them may name the client in
	// X-Forwarded-For, which the sign-in limiter and the audit trail use.
	// Default none: X-Forwarded-For is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// RequireApproval turns every activation and rollback made in the UI
	// into a request a different admin must approve; default false.
	// ApprovalTTL is how long a request waits before it expires; default 24h.
	RequireApproval bool          `yaml:"require_approval"`
	ApprovalTTL     time.Duration `yaml:"approval_ttl"`
	// ClientKeyGrace is how long a rotated-away client key keeps working
	// unless the admin rotating it picks another period; default 24h, at
	// most 30 days (720h).
	ClientKeyGrace time.Duration `yaml:"client_key_grace"`
}

// trustedProxies parses TrustedProxies; a single address is its own
// network.
func (c AdminConfig) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("admin.trusted_proxies: %q is neither a CIDR nor an IP address", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// AdminSSOConfig is the OIDC client of the admin UI.
type AdminSSOConfig struct {
	Issuer       string `yaml:"issuer"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// RedirectURL is the UI's callback, e.g. https://admin.example/auth/callback.
	RedirectURL string `yaml:"redirect_url"`
	// RoleClaim names the claim with groups/roles; default "groups".
	RoleClaim     string   `yaml:"role_claim"`
	AdminValues   []string `yaml:"admin_values"`
	AuditorValues []string `yaml:"auditor_values"`
}

// ClientConfig declares a decision API client in the file.
type ClientConfig struct {
	ID           string   `yaml:"id"`
	Key          string   `yaml:"key"`
	KeySHA256    string   `yaml:"key_sha256"`
	AssertClaims bool     `yaml:"assert_claims"`
	ReturnTo     []string `yaml:"return_to"`
}

func defaultConfig() Config {
	return Config{
		DecisionAddr: "127.0.0.1:8710",
		AdminAddr:    "127.0.0.1:8711",
		DataDir:      "./data",
		Audit: AuditConfig{Mode: "sync", QueueSize: 10000, MaxDelay: 50 * time.Millisecond, SyncLinger: time.Millisecond, EnqueueTimeout: 2 * time.Second,
			Checkpoint: CheckpointConfig{Interval: time.Second}},
		Decision: DecisionConfig{MaxBodyBytes: 64 << 10, Timeout: 500 * time.Millisecond, TokenLeeway: 30 * time.Second,
			StepUpTTL: 10 * time.Minute, CIBARequestedExpiry: 300, RevisionPoll: 250 * time.Millisecond,
			LogoutRetention: 30 * 24 * time.Hour},
		LogLevel: "info",
	}
}

// loadConfig reads the YAML file (if any) over the defaults, then applies
// the environment. Unknown YAML keys are an error: a typo must not silently
// turn a setting off.
func loadConfig(file string, env func(string) string) (Config, error) {
	cfg := defaultConfig()
	if file == "" {
		file = env("STEPGATE_CONFIG")
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		defer f.Close()
		dec := yaml.NewDecoder(f)
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("parse config %s: %w", file, err)
		}
	}
	for _, o := range []struct {
		name string
		dst  *string
	}{
		{"STEPGATE_DECISION_ADDR", &cfg.DecisionAddr},
		{"STEPGATE_ADMIN_ADDR", &cfg.AdminAddr},
		{"STEPGATE_DATA_DIR", &cfg.DataDir},
		{"STEPGATE_DATABASE_URL", &cfg.DatabaseURL},
		{"STEPGATE_AUDIT_MODE", &cfg.Audit.Mode},
		{"STEPGATE_AUDIT_CHAIN_ID", &cfg.Audit.ChainID},
		{"STEPGATE_AUDIT_SPILL_DIR", &cfg.Audit.SpillDir},
		{"STEPGATE_AUDIT_JOURNAL_DIR", &cfg.Audit.JournalDir},
		{"STEPGATE_AUDIT_SIGNING_KEY_FILE", &cfg.Audit.Checkpoint.KeyFile},
		{"STEPGATE_AUDIT_WITNESS_FILE", &cfg.Audit.Checkpoint.WitnessFile},
		{"STEPGATE_AUDIT_WITNESS_URL", &cfg.Audit.Checkpoint.WitnessURL},
		{"STEPGATE_EXTERNAL_URL", &cfg.ExternalURL},
		{"STEPGATE_LOG_LEVEL", &cfg.LogLevel},
	} {
		if v := env(o.name); v != "" {
			*o.dst = v
		}
	}
	if v := env("STEPGATE_AUDIT_CHECKPOINT_INTERVAL"); v != "" {
		if v == "off" {
			cfg.Audit.Checkpoint.Interval = -1
		} else {
			d, err := time.ParseDuration(v)
			if err != nil {
				return cfg, fmt.Errorf("STEPGATE_AUDIT_CHECKPOINT_INTERVAL: %w", err)
			}
			cfg.Audit.Checkpoint.Interval = d
		}
	}
	if v := env("STEPGATE_ADMIN_TRUSTED_PROXIES"); v != "" {
		cfg.Admin.TrustedProxies = strings.Split(v, ",")
	}
	if v := env("STEPGATE_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return cfg, fmt.Errorf("STEPGATE_MAX_BODY_BYTES: %w", err)
		}
		cfg.Decision.MaxBodyBytes = n
	}
	return cfg, cfg.validate()
}

func (c *Config) validate() error {
	var errs []error
	switch c.Audit.Mode {
	case "sync", "async":
	default:
		errs = append(errs, fmt.Errorf("audit.mode %q: want sync or async", c.Audit.Mode))
	}
	if c.DecisionAddr == "" || c.AdminAddr == "" {
		errs = append(errs, errors.New("decision_addr and admin_addr must not be empty"))
	}
	if c.Decision.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("decision.max_body_bytes must be positive"))
	}
	for _, p := range c.Audit.RedactClaims {
		if err := redact.Validate(p); err != nil {
			errs = append(errs, fmt.Errorf("audit.redact_claims: %w", err))
		}
	}
	for _, p := range c.Audit.Redact {
		if err := redact.Validate(p); err != nil {
			errs = append(errs, fmt.Errorf("audit.redact: %w", err))
		}
	}
	if c.Audit.RetentionDays < 0 {
		errs = append(errs, errors.New("audit.retention_days must not be negative"))
	}
	if r := c.Readiness; r.Interval < 0 || r.FailingInterval < 0 || r.PolicyWindow < 0 || r.PolicyMinErrors < 0 {
		errs = append(errs, errors.New("readiness: interval, failing_interval, policy_window and policy_min_errors must not be negative"))
	}
	if c.Decision.RevisionPoll <= 0 {
		errs = append(errs, errors.New("decision.revision_poll must be positive"))
	}
	if c.Decision.LogoutRetention <= 0 {
		errs = append(errs, errors.New("decision.logout_retention must be positive"))
	}
	if _, err := c.Admin.trustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if sso := c.Admin.SSO; sso != nil && (sso.Issuer == "" || sso.ClientID == "" || sso.RedirectURL == "" || len(sso.AdminValues) == 0) {
		errs = append(errs, errors.New("admin.sso needs issuer, client_id, redirect_url and admin_values"))
	}
	seen := map[string]bool{}
	for i, cl := range c.Clients {
		switch {
		case cl.ID == "":
			errs = append(errs, fmt.Errorf("clients[%d]: id is required", i))
		case seen[cl.ID]:
			errs = append(errs, fmt.Errorf("clients[%d]: duplicate id %q", i, cl.ID))
		case (cl.Key == "") == (cl.KeySHA256 == ""):
			errs = append(errs, fmt.Errorf("clients[%d] %q: set exactly one of key and key_sha256", i, cl.ID))
		case cl.KeySHA256 != "" && !isHexSHA256(cl.KeySHA256):
			errs = append(errs, fmt.Errorf("clients[%d] %q: key_sha256 must be 64 lowercase hex digits", i, cl.ID))
		}
		seen[cl.ID] = true
	}
	if c.ForwardAuth != nil {
		errs = append(errs, c.ForwardAuth.validate())
	}
	return errors.Join(errs...)
}

// defaultRedactClaims are the claims never stored unless
// audit.redact_keep_defaults is false.
var defaultRedactClaims = []string{"email", "name", "given_name", "family_name", "phone_number", "address", "birthdate"}

// redactPaths is what the decision path removes from audited inputs: the
// default claim names (unless dropped), redact_claims and redact, without
// repeats.
func (c AuditConfig) redactPaths() []string {
	var paths []string
	if c.RedactKeepDefaults == nil || *c.RedactKeepDefaults {
		paths = append(paths, defaultRedactClaims...)
	}
	for _, p := range slices.Concat(c.RedactClaims, c.Redact) {
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// auditSpillDir is where the audit writer spills at shutdown and where
// `audit verify` looks for unwritten records: audit.spill_dir, else the
// data dir.
// auditJournalDir is the journal directory of this process's chain, or ""
// when the journal is off. One directory per chain id, so that processes
// with their own chains never share a journal.
func (c Config) auditJournalDir() string {
	base := c.auditJournalBase()
	if base == "" {
		return ""
	}
	return filepath.Join(base, url.PathEscape(c.chainID()))
}

// auditJournalBase holds the journal directory of every chain; "" when the
// journal is off.
func (c Config) auditJournalBase() string {
	switch c.Audit.JournalDir {
	case "off":
		return ""
	case "":
		return filepath.Join(c.DataDir, "audit-journal")
	}
	return c.Audit.JournalDir
}

func (c Config) auditSpillDir() string {
	if c.Audit.SpillDir != "" {
		return c.Audit.SpillDir
	}
	return c.DataDir
}

func isHexSHA256(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}

// keyHash returns the stored hash of a configured client's key.
func (c ClientConfig) keyHash() string {
	if c.KeySHA256 != "" {
		return c.KeySHA256
	}
	return clientauth.HashKey(c.Key)
}
