package main

import (
	"net/http"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/livestats"
)

// liveWindow is how far back the dashboard's live figures reach.
const liveWindow = 15 * time.Minute

// adminHandler builds the admin UI and API. Sensitive admin actions are
// decided by the same service that answers the decision API.
func adminHandler(a *app, svc *pdp.Service, clients *clientauth.Authenticator, live *livestats.Recorder) (http.Handler, error) {
	proxies, err := a.cfg.Admin.trustedProxies()
	if err != nil {
		return nil, err
	}
	cfg := adminhttp.Config{
		Store:          a.store,
		Policies:       a.policies,
		Audit:          a.audit,
		Engine:         a.engine,
		Decisions:      svc,
		OnClientChange: clients.Forget,
		ClientKeyGrace: a.cfg.Admin.ClientKeyGrace,
		Anchoring:      a.anchors.trailAnchoring(a.cfg),
		AuditQueue: func() admin.QueueStats {
			s := a.audit.Stats()
			q := admin.QueueStats{Mode: a.cfg.Audit.Mode, Depth: s.QueueDepth, Capacity: a.cfg.Audit.QueueSize, LastCommit: s.LastCommit}
			if err := a.audit.Healthy(); err != nil {
				q.LastError = err.Error()
			}
			return q
		},
		Live: func() admin.LiveStats {
			s := live.Snapshot(liveWindow)
			return admin.LiveStats{Window: s.Window, Decisions: s.Decisions, PerMinute: s.PerMinute, P50: s.P50, P99: s.P99,
				Errors: s.Errors, Timeouts: s.Timeouts}
		},
		SecureCookies:   a.cfg.Admin.SecureCookies,
		IdleTimeout:     a.cfg.Admin.IdleTimeout,
		AbsoluteTimeout: a.cfg.Admin.AbsoluteTimeout,
		TrustedProxies:  proxies,
		RequireApproval: a.cfg.Admin.RequireApproval,
		ApprovalTTL:     a.cfg.Admin.ApprovalTTL,
		Logger:          a.log,
	}
	if sso := a.cfg.Admin.SSO; sso != nil {
		cfg.SSO = &adminhttp.SSOConfig{Issuer: sso.Issuer, ClientID: sso.ClientID, ClientSecret: sso.ClientSecret,
			RedirectURL: sso.RedirectURL, RoleClaim: sso.RoleClaim, AdminValues: sso.AdminValues, AuditorValues: sso.AuditorValues}
	}
	return adminhttp.New(cfg)
}
