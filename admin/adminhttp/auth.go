package adminhttp

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
)

// loginTokenRE matches a login CSRF token as RandomToken(24) makes it.
var loginTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`)

// loginView is the sign-in form; User keeps what was typed.
type loginView struct {
	User, ReturnTo, LoginCSRF, Error string
	// Notice says why a sensitive action asks for the password again.
	Notice string
	Reauth bool
}

func (s *server) loginPage(c echo.Context) error {
	if sessionOf(c) != nil {
		return c.Redirect(http.StatusSeeOther, admin.SafeReturnTo(c.QueryParam("return_to")))
	}
	// The bootstrap account is the one that exists on a first start.
	v := loginView{ReturnTo: admin.SafeReturnTo(c.QueryParam("return_to")), User: admin.BootstrapAdmin}
	if c.QueryParam("expired") != "" {
		v.Error = "Your session ended. Please sign in again."
	}
	return s.renderLogin(c, http.StatusOK, v)
}

// renderLogin issues the pre-session CSRF token (double-submit cookie), so
// that a foreign page cannot sign a browser in to an attacker's session.
// A token the browser already holds is kept: any other request that lands
// on the sign-in page (a second tab, the browser fetching /favicon.ico
// without a session) must not invalidate the form on screen.
func (s *server) renderLogin(c echo.Context, status int, v loginView) error {
	tok := ""
	if ck, err := c.Cookie(loginCSRFCookie); err == nil && loginTokenRE.MatchString(ck.Value) {
		tok = ck.Value
	} else if tok, err = admin.RandomToken(24); err != nil {
		return err
	}
	s.setCookie(c, loginCSRFCookie, tok, 3600)
	v.LoginCSRF = tok
	return s.render(c, status, "login", "Sign in", "", v)
}

func (s *server) loginSubmit(c echo.Context) error {
	if s.sso != nil {
		return echo.NewHTTPError(http.StatusNotFound, "Password sign-in is switched off; sign in with single sign-on.")
	}
	ck, err := c.Cookie(loginCSRFCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.FormValue(csrfField))) != 1 {
		return errCSRF
	}
	v := loginView{User: c.FormValue("user"), ReturnTo: admin.SafeReturnTo(c.FormValue("return_to"))}
	ctx := c.Request().Context()
	acct, err := s.password.Check(ctx, c.RealIP(), v.User, c.FormValue("password"))
	var rl *admin.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(rl.Wait.Seconds())+1))
		v.Error = rl.Error()
		return s.renderLogin(c, http.StatusTooManyRequests, v)
	case errors.Is(err, admin.ErrBadCredentials):
		v.Error = err.Error()
		return s.renderLogin(c, http.StatusUnauthorized, v)
	case err != nil:
		return err
	}
	if old := sessionOf(c); old != nil {
		_ = s.sessions.End(ctx, old.Key())
	}
	sess, err := s.sessions.Create(ctx, admin.Session{User: acct.Name, Role: acct.Role, Version: acct.Version, Method: "password", AMR: []string{"pwd"}})
	if err != nil {
		return err
	}
	if _, err := s.sessions.Sweep(ctx); err != nil {
		s.log.WarnContext(ctx, "sweep expired admin sessions", "err", err)
	}
	s.clearCookie(c, loginCSRFCookie)
	s.setCookie(c, sessionCookie, sess.Key(), 0)
	return c.Redirect(http.StatusSeeOther, v.ReturnTo)
}

func (s *server) logout(c echo.Context) error {
	s.clearCookie(c, sessionCookie)
	if sess := sessionOf(c); sess != nil {
		if err := s.sessions.SignOut(c.Request().Context(), sess); err != nil {
			return err
		}
	}
	s.flash(c, "You are signed out.")
	return c.Redirect(http.StatusSeeOther, "/login")
}

// reauthPage asks a local account for the password again before a
// sensitive action; SSO sessions go back to the IdP instead.
func (s *server) reauthPage(c echo.Context) error {
	sess := sessionOf(c)
	if sess.Method == "sso" {
		return c.Redirect(http.StatusSeeOther, "/auth/sso?"+c.QueryString())
	}
	return s.renderLogin(c, http.StatusOK, loginView{User: sess.User, ReturnTo: admin.SafeReturnTo(c.QueryParam("return_to")), Reauth: true,
		Notice: c.QueryParam("why")})
}

func (s *server) reauthSubmit(c echo.Context) error {
	sess := sessionOf(c)
	ctx := c.Request().Context()
	v := loginView{User: sess.User, ReturnTo: admin.SafeReturnTo(c.FormValue("return_to")), Reauth: true}
	_, err := s.password.Reauthenticate(ctx, c.RealIP(), sess.User, c.FormValue("password"))
	var rl *admin.RateLimitError
	switch {
	case errors.As(err, &rl):
		v.Error = rl.Error()
		return s.renderLogin(c, http.StatusTooManyRequests, v)
	case errors.Is(err, admin.ErrBadCredentials):
		v.Error = "That password is wrong."
		return s.renderLogin(c, http.StatusUnauthorized, v)
	case err != nil:
		return err
	}
	if err := s.sessions.Reauthenticated(ctx, sess, s.cfg.Now(), []string{"pwd"}, ""); err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, sess.Key(), 0)
	s.flash(c, "Thanks — you confirmed your password. You can continue now.")
	return c.Redirect(http.StatusSeeOther, v.ReturnTo)
}
