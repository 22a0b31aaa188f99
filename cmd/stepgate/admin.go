package main

import (
	"net/http"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
)

// adminHandler builds the admin UI and API. Sensitive admin actions are
// decided by the same service that answers the decision API.
func adminHandler(a *app, svc *pdp.Service, clients *clientauth.Authenticator) (http.Handler, error) {
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
			q := admin.QueueStats{Mode: a.cfg.Audit.Mode, Depth: s.QueueDepth, Capacity: a.cfg.Audit.QueueSize}
			if err := a.audit.Healthy(); err != nil {
				q.LastError = err.Error()
			}
			return q
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
