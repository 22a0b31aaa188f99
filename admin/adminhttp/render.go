package adminhttp

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/webui"
)

// render executes a page into a buffer first, so a template error becomes
// a clean 500 instead of half a page.
func (s *server) render(c echo.Context, status int, page, title, nav string, data any) error {
	p := webui.Page{Title: title, Nav: nav, Data: data, SSO: s.sso != nil, Flash: s.takeFlash(c)}
	if sess := sessionOf(c); sess != nil {
		p.User, p.Role, p.CSRF, p.CanWrite = sess.User, string(sess.Role), sess.CSRF, sess.Role.CanWrite()
	}
	var buf bytes.Buffer
	if err := s.views.Render(&buf, page, p); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// flash leaves a one-line message for the next page.
func (s *server) flash(c echo.Context, msg string) {
	s.setCookie(c, flashCookie, url.QueryEscape(msg), 60)
}

func (s *server) takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	s.clearCookie(c, flashCookie)
	msg, _ := url.QueryUnescape(ck.Value)
	return msg
}

// errorPage is the data of the error template.
type errorPage struct {
	Status  int
	Message string
	Back    string
}

// handleError maps errors to status codes in one place; a 500 logs the
// detail and shows a generic message with the request id.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, ""
	var he *echo.HTTPError
	var fe admin.FieldErrors
	switch {
	case errors.As(err, &he):
		status, msg = he.Code, fmt.Sprint(he.Message)
	case errors.Is(err, storage.ErrNotFound):
		status, msg = http.StatusNotFound, "That does not exist (any more). It may have been removed, or the link is wrong."
	case errors.As(err, &fe), errors.Is(err, admin.ErrInvalid):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, admin.ErrForbidden):
		status, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, admin.ErrUnrecorded):
		// Nothing happened: say so, rather than a bare "went wrong".
		status, msg = http.StatusServiceUnavailable, "Nothing was done: the audit trail is not accepting records right now, "+
			"and stepgate does nothing it cannot record. Try again once it is."
	}
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if status == http.StatusServiceUnavailable && errors.Is(err, admin.ErrUnrecorded) {
		s.log.ErrorContext(c.Request().Context(), "admin action not recorded", "err", err, "path", c.Path(), "request_id", rid)
		msg += " The details are in stepgate's log under request id " + rid + "."
	} else if status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "admin request failed", "err", err, "path", c.Path(), "request_id", rid)
		msg = "Something went wrong on our side. The details are in stepgate's log under request id " + rid + "."
	}
	if status == http.StatusNotFound && msg == "Not Found" {
		msg = "There is no page at this address. Use the navigation above to find what you are looking for."
	}
	if isAPI(c) || c.Request().Header.Get(echo.HeaderAccept) == echo.MIMEApplicationJSON {
		_ = c.JSON(status, map[string]any{"error": http.StatusText(status), "error_description": msg, "request_id": rid})
		return
	}
	back := c.Request().Referer()
	if u, err := url.Parse(back); err != nil || u.Host != c.Request().Host {
		back = "/"
	}
	if rerr := s.render(c, status, "error", http.StatusText(status), "", errorPage{Status: status, Message: msg, Back: back}); rerr != nil {
		s.log.ErrorContext(c.Request().Context(), "render error page", "err", rerr)
		_ = c.String(status, msg)
	}
}

func (s *server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return next(c)
	}
}
