package forwardauth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Decider decides and verifies step-ups; *pdp.Service implements it.
type Decider interface {
	Decide(ctx context.Context, c clientauth.Client, req *pdp.Request) (*pdp.Decision, error)
	VerifyStepUp(ctx context.Context, c clientauth.Client, transactionID, idToken string) (*stepup.Result, error)
}

// Verifier is the part of trust.Verifier sign-in uses.
type Verifier interface {
	stepup.Verifier
	Issuer(iss string) (trust.IssuerConfig, bool)
	Issuers() []trust.IssuerConfig
}

// Revoker ends a client's session; *session.Sessions implements it.
type Revoker interface {
	Revoke(ctx context.Context, c clientauth.Client, sessionID string) (int, error)
}

// Config wires a Handler. Decider, Verifier, Transactions, Keys and a
// default route are required.
type Config struct {
	Decider      Decider
	Verifier     Verifier
	Transactions stepup.TransactionStore
	// Sessions, when set, revokes the session at sign-out.
	Sessions Revoker
	Routes   []Route
	Default  DefaultRoute
	// ActionHeader lets X-Stepgate-Action choose the action. Only for
	// proxies that set or remove the header on every subrequest: otherwise
	// a user could send it and pick a weaker action. Default false.
	ActionHeader bool
	// Issuer signs browsers in; default the only issuer with an authorize
	// client.
	Issuer string
	// ClientSecret authenticates the code exchange of the issuer's
	// authorize client; empty for a public client (PKCE only).
	ClientSecret string
	// CallbackPath and SignOutPath are served on every host the proxy
	// protects; defaults /_stepgate/callback and /_stepgate/signout. The
	// IdP must accept <origin><CallbackPath> as a redirect URI.
	CallbackPath string
	SignOutPath  string
	// CookieName names the session cookie; default "stepgate_session".
	// The sign-in in flight uses CookieName + "_pending".
	CookieName string
	// Keys seal the cookies: the first seals, every one opens. Each at
	// least 32 bytes. Rotate by putting a new key first and removing the
	// old one after SessionTTL.
	Keys [][]byte
	// SessionTTL is how long a session cookie lasts; default 8h.
	SessionTTL time.Duration
	// SignInTTL bounds a sign-in in flight; default 10m.
	SignInTTL time.Duration
	// HTTPClient makes the code exchange; default http.DefaultClient with
	// a 10s timeout.
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// Handler serves forward auth, the sign-in callback and sign-out.
type Handler struct {
	cfg    Config
	log    *slog.Logger
	table  *Table
	seal   *sealer
	stepUp *stepup.Service
	issuer trust.IssuerConfig
}

// New validates cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Decider == nil || cfg.Verifier == nil || cfg.Transactions == nil {
		return nil, errors.New("forward_auth: Decider, Verifier and Transactions are required")
	}
	cfg.CallbackPath = cmp.Or(cfg.CallbackPath, "/_stepgate/callback")
	cfg.SignOutPath = cmp.Or(cfg.SignOutPath, "/_stepgate/signout")
	cfg.CookieName = cmp.Or(cfg.CookieName, "stepgate_session")
	cfg.SessionTTL = cmp.Or(cfg.SessionTTL, 8*time.Hour)
	cfg.SignInTTL = cmp.Or(cfg.SignInTTL, 10*time.Minute)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for _, p := range []string{cfg.CallbackPath, cfg.SignOutPath} {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") {
			return nil, fmt.Errorf("forward_auth: path %q must be a path starting with /", p)
		}
	}
	if cfg.SessionTTL < 0 || cfg.SignInTTL < 0 {
		return nil, errors.New("forward_auth: durations must not be negative")
	}
	table, err := NewTable(cfg.Routes, cfg.Default)
	if err != nil {
		return nil, err
	}
	seal, err := newSealer(cfg.Keys)
	if err != nil {
		return nil, fmt.Errorf("forward_auth: %w", err)
	}
	iss, err := signInIssuer(cfg.Verifier.Issuers(), cfg.Issuer)
	if err != nil {
		return nil, err
	}
	su, err := stepup.New(stepup.Config{Verifier: cfg.Verifier, Transactions: cfg.Transactions,
		TTL: cfg.SignInTTL, Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("forward_auth: %w", err)
	}
	return &Handler{cfg: cfg, log: cfg.Logger, table: table, seal: seal, stepUp: su, issuer: iss}, nil
}

// signInIssuer picks the issuer browsers sign in with.
func signInIssuer(all []trust.IssuerConfig, name string) (trust.IssuerConfig, error) {
	var found []trust.IssuerConfig
	for _, ic := range all {
		if ic.Authorize != nil && (name == "" || ic.Issuer == name) {
			found = append(found, ic)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case name != "":
		return trust.IssuerConfig{}, fmt.Errorf("forward_auth: issuer %q is not configured with an authorize client", name)
	case len(found) == 0:
		return trust.IssuerConfig{}, errors.New("forward_auth: no issuer has an authorize client to sign browsers in with")
	}
	return trust.IssuerConfig{}, errors.New("forward_auth: several issuers have an authorize client; name one in forward_auth.issuer")
}

// CallbackPath is where the IdP sends the browser back.
func (h *Handler) CallbackPath() string { return h.cfg.CallbackPath }

// SignOutPath ends the browser's session.
func (h *Handler) SignOutPath() string { return h.cfg.SignOutPath }

func (h *Handler) pendingName() string { return h.cfg.CookieName + "_pending" }

// signedOutName marks a browser that signed out, so that its next sign-in
// is a fresh login rather than the IdP's silent single sign-on.
func (h *Handler) signedOutName() string { return h.cfg.CookieName + "_out" }
