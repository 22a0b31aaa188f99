package adminhttp

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp"
)

// Cookie names. The session cookie is host-only, HttpOnly and SameSite=Lax:
// Lax still sends it on the top-level redirect back from the IdP.
const (
	sessionCookie    = "sg_session"
	loginCSRFCookie  = "sg_login"
	ssoPendingCookie = "sg_sso"
	flashCookie      = "sg_flash"
	csrfField        = "_csrf"
	csrfHeader       = "X-CSRF-Token"
	sessionKey       = "admin.session"
)

// errCSRF is a state-changing request without a valid CSRF token.
var errCSRF = echo.NewHTTPError(http.StatusForbidden, "The form expired or did not come from this site (CSRF check failed). Go back, reload the page and try again.")

// securityHeaders sets the CSP and friends on every response.
func (s *server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if id == "" || len(id) > 128 {
			id, _ = admin.RandomToken(12)
		}
		h.Set(echo.HeaderXRequestID, id)
		c.SetRequest(c.Request().WithContext(pdp.WithRequestID(c.Request().Context(), id)))
		return next(c)
	}
}

// loadSession puts the live session, if any, into the context, and its
// user name as the label of the actor admin records name.
func (s *server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err == nil && ck.Value != "" {
			sess, err := s.sessions.Load(c.Request().Context(), ck.Value)
			switch {
			case err == nil:
				c.Set(sessionKey, sess)
				// Records name the verified identity; the label says who
				// that is to people reading the trail.
				c.SetRequest(c.Request().WithContext(admin.WithActorLabel(c.Request().Context(), sess.User)))
			case errors.Is(err, admin.ErrNoSession):
				s.clearCookie(c, sessionCookie)
			default:
				return err
			}
		}
		return next(c)
	}
}

func sessionOf(c echo.Context) *admin.Session {
	sess, _ := c.Get(sessionKey).(*admin.Session)
	return sess
}

// requireSession sends anonymous browsers to sign-in (API calls get 401).
func (s *server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if sessionOf(c) != nil {
			return next(c)
		}
		if isAPI(c) {
			return echo.NewHTTPError(http.StatusUnauthorized, "sign in first")
		}
		target := "/login"
		if r := c.Request(); r.Method == http.MethodGet && r.URL.Path != "/" {
			target += "?return_to=" + url.QueryEscape(r.URL.RequestURI())
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// requireAdmin refuses every change to anyone but an admin, whatever the
// page showed them, and records the refusal.
func (s *server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if sess := sessionOf(c); sess == nil || !sess.Role.CanWrite() {
			if sess != nil {
				route := c.Request().Method + " " + c.Path()
				if err := s.recorder.Refused(c.Request().Context(), sess.Actor(), "admin.write", "role "+string(sess.Role)+" may not change anything",
					map[string]any{"route": route, "role": string(sess.Role)}); err != nil {
					return err
				}
			}
			return echo.NewHTTPError(http.StatusForbidden, "Your role is auditor: you can look at everything but change nothing. Ask an admin to make this change.")
		}
		return next(c)
	}
}

// checkCSRF guards every state-changing request of a session: forms carry
// the token in a field, JSON calls in the X-CSRF-Token header. A foreign
// Origin is refused outright.
func (s *server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			return next(c)
		}
		if !sameOrigin(r) {
			return errCSRF
		}
		sess := sessionOf(c)
		if sess == nil {
			return next(c)
		}
		tok := r.Header.Get(csrfHeader)
		if tok == "" && !strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
			tok = c.FormValue(csrfField)
		}
		if !sess.CheckCSRF(tok) {
			return errCSRF
		}
		return next(c)
	}
}

// sameOrigin accepts a request without Origin (older browsers, curl with a
// session cookie and token) or with an Origin naming this host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

func (s *server) setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *server) clearCookie(c echo.Context, name string) { s.setCookie(c, name, "", -1) }
