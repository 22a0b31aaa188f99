package adminhttp

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

// Store is the database the admin UI reads and writes: all of
// storage.Store, whose parts admin's services name (sessions, clients,
// policy revisions, audit search and statistics).
type Store interface {
	storage.Store
}

// SSOConfig enables OIDC single sign-on for admins. When set, the password
// form is not offered.
type SSOConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this UI's callback, e.g. https://admin.example/auth/callback.
	RedirectURL string
	// RoleClaim names the ID token claim holding groups/roles; default "groups".
	RoleClaim     string
	AdminValues   []string
	AuditorValues []string
	// HTTPClient talks to the IdP; default http.DefaultClient.
	HTTPClient *http.Client
}

// Config wires the admin UI. Store, Policies, Audit and Engine are required.
type Config struct {
	Store Store
	// Policies runs the policy lifecycle (validate, push, activate, roll back).
	Policies *admin.Policies
	// Audit records admin changes (the audit writer, sync).
	Audit admin.AuditLog
	// Engine compiles drafts for the playground and impact analysis.
	Engine *policy.Engine
	// Decisions decides sensitive admin actions (policy activation, client
	// keys) with stepgate's own engine; nil skips that check.
	Decisions admin.Decider
	// OnClientChange is called after a client key or permission changed,
	// e.g. (*pdp.Authenticator).Forget; optional.
	OnClientChange func()
	// AuditQueue reports the audit writer's queue for the dashboard; optional.
	AuditQueue func() admin.QueueStats
	// Live reports this replica's recent decision rate, latency, errors and
	// timeouts for the dashboard; optional.
	Live func() admin.LiveStats
	// ClientKeyGrace is how long a rotated-away client key keeps working
	// unless the admin picks another period; default 24h.
	ClientKeyGrace time.Duration
	// Anchoring verifies the trail against signed checkpoints and puts
	// them in NDJSON exports; nil verifies the chains alone.
	Anchoring *trail.Anchoring
	// SSO enables single sign-on; nil means the bootstrap admin password form.
	SSO *SSOConfig
	// SecureCookies sets the Secure flag on cookies; set it behind TLS.
	SecureCookies bool
	// IdleTimeout (default 30m) and AbsoluteTimeout (default 12h) end sessions.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// LoginBurst failed password attempts per address and account are
	// allowed, then one per LoginInterval; defaults 5 and 1m. See
	// admin.LoginLimiter for how the two limits combine.
	LoginBurst    int
	LoginInterval time.Duration
	// TrustedProxies are the networks of the reverse proxies in front of
	// the admin UI. Only a connection from one of them may name the client
	// address in X-Forwarded-For (the right-most address not in these
	// networks is the client's); the sign-in limiter and the audit trail
	// use that address. Default none: the connection's own address is the
	// client's and X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
	// RequireApproval makes every activation and rollback in the UI a
	// request that another admin approves ("four eyes"); ApprovalTTL is
	// how long a request waits before it expires, default 24h.
	RequireApproval bool
	ApprovalTTL     time.Duration
	// PasswordCost is the bcrypt cost of local account passwords; default
	// bcrypt.DefaultCost.
	PasswordCost int
	// ImpactSample is how many recent decisions impact analysis replays by
	// default; 1000.
	ImpactSample int
	Logger       *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}
