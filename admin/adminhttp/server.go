package adminhttp

import (
	"cmp"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/approval"
	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/admin/users"
	"github.com/stepgate/stepgate/webui"
)

// server holds the wired parts; handlers are its methods.
type server struct {
	cfg      Config
	log      *slog.Logger
	sessions *admin.Sessions
	clients  *admin.Clients
	trail    *trail.Trail
	password *admin.PasswordSignIn
	users    *users.Service
	// approvals is nil unless Config.RequireApproval.
	approvals *approval.Service
	recorder  *admin.Recorder
	sso       *admin.SSO
	gate      *admin.Gate
	views     *webui.Views
	csp       string
}

// New validates cfg and returns the admin UI and admin API as one handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil || cfg.Policies == nil || cfg.Audit == nil || cfg.Engine == nil {
		return nil, errors.New("adminhttp: Store, Policies, Audit and Engine are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.ImpactSample = cmp.Or(cfg.ImpactSample, 1000)
	// One recorder for the whole process: admin changes, sign-ins and
	// refusals go to the chain of the process's audit writer.
	s := &server{cfg: cfg, log: cfg.Logger, recorder: cfg.Policies.Recorder()}
	var err error
	if s.users, err = users.New(users.Config{Store: cfg.Store, Recorder: s.recorder, Cost: cfg.PasswordCost, Now: cfg.Now}); err != nil {
		return nil, err
	}
	if cfg.RequireApproval {
		if s.approvals, err = approval.New(approval.Config{Store: cfg.Store, Policies: cfg.Policies, Recorder: s.recorder,
			TTL: cfg.ApprovalTTL, Now: cfg.Now}); err != nil {
			return nil, err
		}
	}
	if s.sessions, err = admin.NewSessions(admin.SessionsConfig{Store: cfg.Store, IdleTimeout: cfg.IdleTimeout,
		AbsoluteTimeout: cfg.AbsoluteTimeout, Recorder: s.recorder, Accounts: s.users, Now: cfg.Now, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	if s.clients, err = admin.NewClients(admin.ClientsConfig{Store: cfg.Store, Recorder: s.recorder,
		OnChange: cfg.OnClientChange, KeyGrace: cfg.ClientKeyGrace, Now: cfg.Now, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	if s.trail, err = trail.New(trail.Config{Store: cfg.Store, Anchoring: cfg.Anchoring}); err != nil {
		return nil, err
	}
	s.password = &admin.PasswordSignIn{Accounts: s.users, Recorder: s.recorder,
		Limiter: admin.NewLoginLimiter(cfg.LoginBurst, cfg.LoginInterval, cfg.Now)}
	formAction := "'self'"
	if c := cfg.SSO; c != nil {
		if s.sso, err = admin.NewSSO(admin.SSOConfig{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			RedirectURL: c.RedirectURL, HTTPClient: c.HTTPClient, Store: cfg.Store, Recorder: s.recorder, Now: cfg.Now,
			Roles: admin.RoleMapping{Claim: cmp.Or(c.RoleClaim, "groups"), AdminValues: c.AdminValues, AuditorValues: c.AuditorValues},
		}); err != nil {
			return nil, err
		}
		// A form may redirect to the IdP (re-authentication before a
		// sensitive action); form-action applies to that redirect too.
		if u, err := url.Parse(c.Issuer); err == nil {
			formAction += " " + u.Scheme + "://" + u.Host
		}
	}
	if cfg.Decisions != nil {
		s.gate = &admin.Gate{Decider: cfg.Decisions}
	}
	s.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
	if s.views, err = webui.Load(); err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP(cfg.TrustedProxies)
	e.HTTPErrorHandler = s.handleError
	s.routes(e)
	return e, nil
}

// clientIP is how c.RealIP finds the client: the connection's address, or
// with trusted proxies the right-most X-Forwarded-For address that is not
// one of them. Echo's own default would believe X-Forwarded-For from
// anyone, and its XFF extractor trusts loopback and private networks
// unless told not to.
func clientIP(proxies []netip.Prefix) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
