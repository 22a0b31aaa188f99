// Package adminhttp is the admin listener's HTTP adapter: server-rendered
// pages (templates and assets from webui) and a small JSON API for security
// admins and compliance auditors. Handlers bind input, call the admin
// package, and render; the logic lives in admin.
//
// Every request passes the same middleware: security headers (a Content
// Security Policy without unsafe-inline, frame-ancestors 'none'), panic
// recovery, the server-side session from its HttpOnly SameSite=Lax cookie,
// and a CSRF check on every state-changing request. Reading needs a session
// of either role; changing anything needs the admin role, and the most
// sensitive changes (activating a policy, creating or rotating a client key)
// are also decided by stepgate's own engine, which may send the admin
// through a fresh sign-in first.
//
// Routes:
//
//	GET/POST /login, GET /auth/sso, GET /auth/callback, POST /logout
//	GET /                        dashboard
//	/policies, /policies/:id, /policies/diff, edit, test, playground,
//	impact, activate, rollback
//	/audit (search), /audit/export, /audit/decisions/:id, /audit/verify,
//	/audit/admin (admin activity)
//	/clients, /clients/new, /clients/:id (update, rotate, revoke)
//	/api/session, /api/audit, /api/policies/:id/playground|validate
package adminhttp
