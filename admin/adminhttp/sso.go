package adminhttp

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
)

// ssoStart sends the browser to the IdP (code flow, PKCE, state, nonce).
// The requirements of a sensitive action (max_age, fresh_login, acr_values,
// amr_any) come along when it asked for a fresher or stronger login.
func (s *server) ssoStart(c echo.Context) error {
	if s.sso == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not configured; sign in with the password form.")
	}
	opt := admin.SSOStart{ReturnTo: admin.SafeReturnTo(c.QueryParam("return_to")), Requirements: policy.Requirements{
		ACRValues: admin.SplitList(c.QueryParam("acr_values")), AMRAny: admin.SplitList(c.QueryParam("amr_any")),
		FreshLogin: c.QueryParam("fresh_login") == "1"}}
	if v := c.QueryParam("max_age"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "max_age must be a non-negative number of seconds")
		}
		opt.Requirements.MaxAge = &n
	}
	cookie, authURL, err := s.sso.Begin(c.Request().Context(), opt)
	if err != nil {
		return err
	}
	s.setCookie(c, ssoPendingCookie, cookie, 600)
	return c.Redirect(http.StatusFound, authURL)
}

// ssoCallback finishes the login: the pending login named by the cookie
// must match state, and the ID token's nonce must match too.
func (s *server) ssoCallback(c echo.Context) error {
	if s.sso == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not configured.")
	}
	ctx := c.Request().Context()
	if e := c.QueryParam("error"); e != "" {
		if err := s.sso.Refused(ctx, e, c.QueryParam("error_description")); err != nil {
			return err
		}
		return echo.NewHTTPError(http.StatusBadRequest, "The identity provider refused the sign-in: "+e+" "+c.QueryParam("error_description"))
	}
	var cookie string
	if ck, err := c.Cookie(ssoPendingCookie); err == nil {
		cookie = ck.Value
	}
	s.clearCookie(c, ssoPendingCookie)
	id, err := s.sso.Complete(ctx, cookie, c.QueryParam("state"), c.QueryParam("code"))
	if errors.Is(err, admin.ErrSSO) {
		s.log.WarnContext(ctx, "admin SSO callback rejected", "err", err)
		return echo.NewHTTPError(http.StatusBadRequest, err.Error()+". Start again from the sign-in page.")
	}
	if err != nil {
		return err
	}
	// The same person is the same issuer and subject; a shared e-mail
	// address is not enough.
	if cur := sessionOf(c); cur != nil && cur.Method == "sso" && cur.Issuer == id.Issuer && cur.Subject == id.Subject {
		cur.Role, cur.User = id.Role, id.Name
		if err := s.sessions.Reauthenticated(ctx, cur, id.AuthTime, id.AMR, id.ACR); err != nil {
			return err
		}
		s.setCookie(c, sessionCookie, cur.Key(), 0)
		return c.Redirect(http.StatusSeeOther, admin.SafeReturnTo(id.ReturnTo))
	} else if cur != nil {
		_ = s.sessions.End(ctx, cur.Key())
	}
	sess, err := s.sessions.Create(ctx, admin.Session{User: id.Name, Role: id.Role, Method: "sso", Issuer: id.Issuer,
		Subject: id.Subject, AMR: id.AMR, ACR: id.ACR, AuthTime: id.AuthTime})
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, sess.Key(), 0)
	return c.Redirect(http.StatusSeeOther, admin.SafeReturnTo(id.ReturnTo))
}
