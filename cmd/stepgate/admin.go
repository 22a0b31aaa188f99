package main

import (
	"context"
	"net/http"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/livestats"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
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
		Store:          indexedStore{Store: a.store, w: a.audit},
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
			if js, ok := a.audit.Journal(); ok {
				q.Journal, q.Journaled, q.Indexed, q.Backlog, q.IndexedAt = true, js.Journaled, js.Indexed, js.Backlog, js.IndexedAt
				q.LastCommit = js.IndexedAt
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

// searchWait bounds how long an audit search waits for the journal's
// records to reach the database before it reads what is there.
const searchWait = 2 * time.Second

// indexedStore makes audit search, counts and exports read this process's
// writes: each first waits (up to searchWait) until the database holds
// every record the audit writer acknowledged before the search began, so a
// decision answered a moment ago is found. Records of other replicas are
// searchable once their own journals are indexed.
type indexedStore struct {
	storage.Store
	w *audit.Writer
}

func (s indexedStore) caughtUp(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, searchWait)
	defer cancel()
	_ = s.w.WaitIndexed(ctx) // behind: search what is indexed; the dashboard shows the backlog
}

func (s indexedStore) SearchAudit(ctx context.Context, q storage.AuditQuery) (storage.AuditPage, error) {
	s.caughtUp(ctx)
	return s.Store.SearchAudit(ctx, q)
}

func (s indexedStore) CountAudit(ctx context.Context, q storage.AuditQuery, bound int64) (storage.AuditCount, error) {
	s.caughtUp(ctx)
	return s.Store.CountAudit(ctx, q, bound)
}

func (s indexedStore) ExportAudit(ctx context.Context, q storage.AuditQuery, fn func(storage.AuditRecord) error) error {
	s.caughtUp(ctx)
	return s.Store.ExportAudit(ctx, q, fn)
}
