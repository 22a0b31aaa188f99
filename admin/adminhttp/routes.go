package adminhttp

import (
	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/webui"
)

// routes registers every page and API call. Reading needs a session;
// changing anything needs the admin role and a CSRF token.
func (s *server) routes(e *echo.Echo) {
	e.Use(s.securityHeaders, s.recoverPanics, s.loadSession, s.checkCSRF)
	e.GET("/static/*", echo.WrapHandler(webui.Static()))
	e.GET("/healthz", func(c echo.Context) error { return c.String(200, "ok") })

	e.GET("/login", s.loginPage)
	e.POST("/login", s.loginSubmit)
	e.GET("/auth/sso", s.ssoStart)
	e.GET("/auth/callback", s.ssoCallback)
	e.POST("/logout", s.logout)

	r := e.Group("", s.requireSession)
	w := e.Group("", s.requireSession, s.requireAdmin)

	r.GET("/", s.dashboard)
	r.GET("/auth/reauth", s.reauthPage)
	r.POST("/auth/reauth", s.reauthSubmit)

	r.GET("/policies", s.policyList)
	r.GET("/policies/diff", s.policyDiff)
	r.GET("/policies/:id", s.policyView)
	r.POST("/policies/:id/test", s.policyTest)
	r.GET("/policies/:id/playground", s.playgroundPage)
	r.POST("/policies/:id/playground", s.playgroundSubmit)
	r.GET("/policies/:id/impact", s.policyImpact)
	w.GET("/policies/:id/edit", s.editPage)
	w.POST("/policies/:id/edit", s.editSubmit)
	w.POST("/policies/:id/try", s.editTry)
	w.POST("/policies/:id/discard", s.discardSubmit)
	r.GET("/playground", s.playgroundDecision)
	r.POST("/playground", s.playgroundPost)
	w.GET("/policies/:id/activate", s.activatePage)
	w.POST("/policies/:id/activate", s.activateSubmit)
	w.GET("/policies/rollback", s.rollbackPage)
	w.POST("/policies/rollback", s.rollbackSubmit)
	r.GET("/approvals", s.approvalList)
	r.GET("/approvals/:id", s.approvalPage)
	w.POST("/approvals/:id", s.approvalSubmit)

	r.GET("/audit", s.auditSearch)
	r.GET("/audit/export", s.auditExport)
	r.GET("/audit/decisions/:id", s.auditDecision)
	r.GET("/audit/verify", s.verifyPage)
	r.POST("/audit/verify", s.verifySubmit)
	r.GET("/audit/admin", s.adminActivity)
	r.POST("/audit/saved", s.auditSave)
	r.POST("/audit/saved/:id/delete", s.auditSavedDelete)

	r.GET("/clients", s.clientList)
	w.GET("/clients/new", s.clientNew)
	w.POST("/clients", s.clientCreate)
	r.GET("/clients/:id", s.clientView)
	w.POST("/clients/:id", s.clientUpdate)
	w.POST("/clients/:id/rotate", s.clientRotate)
	w.POST("/clients/:id/revoke", s.clientRevoke)
	w.POST("/clients/:id/end-overlap", s.clientEndOverlap)

	r.GET("/users", s.userList)
	w.POST("/users", s.userAdd)
	w.POST("/users/:name/disable", s.userDisable)
	w.POST("/users/:name/enable", s.userEnable)
	w.POST("/users/:name/password", s.userPassword)

	r.GET("/api/session", s.apiSession)
	r.GET("/api/audit", s.apiAuditSearch)
	r.POST("/api/policies/:id/playground", s.apiPlayground)
	w.POST("/api/policies/:id/validate", s.apiValidate)
}
