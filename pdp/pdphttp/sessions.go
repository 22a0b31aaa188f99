package pdphttp

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/session"
)

// sessionAnswer tells the app which session a verified step-up elevated.
type sessionAnswer struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
}

func sessionOf(e *session.Elevation) *sessionAnswer {
	if e == nil {
		return nil
	}
	return &sessionAnswer{ID: e.SessionID, ExpiresAt: e.ExpiresAt.UTC().Truncate(time.Second)}
}

// RegisterSessions adds the routes that end session elevations:
//
//	POST /v1/sessions/{sid}/revoke   the app ends one of its sessions (client key)
//	POST /v1/backchannel-logout      OpenID Connect Back-Channel Logout receiver (logout_token)
//
// The logout receiver is not client-authenticated: the signed logout token
// is its authentication.
func (s *Server) RegisterSessions(sessions *session.Sessions) {
	h := sessionHandlers{s: s, sessions: sessions}
	s.echo.POST("/v1/sessions/:sid/revoke", h.revoke, s.authenticate)
	s.echo.POST("/v1/backchannel-logout", h.logout)
}

type sessionHandlers struct {
	s        *Server
	sessions *session.Sessions
}

type revokeResponse struct {
	Revoked int `json:"revoked"`
}

func (h sessionHandlers) revoke(c echo.Context) error {
	sid, err := url.PathUnescape(c.Param("sid"))
	if err != nil {
		return invalidf("the session id in the path is not URL-encoded correctly")
	}
	n, err := h.sessions.Revoke(c.Request().Context(), ClientOf(c), sid)
	if err != nil && !errors.Is(err, clientauth.ErrInvalidRequest) {
		// Past validation, a revocation fails only when the store or the
		// audit trail does: nothing was refused, so the app should retry.
		return fmt.Errorf("%w: %w", clientauth.ErrUnavailable, err)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, revokeResponse{Revoked: n})
}

// logout answers as Back-Channel Logout 1.0 §2.8 asks: 200 when the logout
// succeeded (also when no elevation was left to end), 400 with an OAuth
// error object for a bad request or token, never cached. A logout that
// could not be stored answers 503 instead, so that the IdP tries again.
func (h sessionHandlers) logout(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != "application/x-www-form-urlencoded" {
		return c.JSON(http.StatusBadRequest, errorBody{"invalid_request", "send the logout_token form-encoded (application/x-www-form-urlencoded)"})
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, h.s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return c.JSON(http.StatusBadRequest, errorBody{"invalid_request", "the request body could not be read"})
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || len(form["logout_token"]) != 1 {
		return c.JSON(http.StatusBadRequest, errorBody{"invalid_request", "exactly one logout_token is required"})
	}
	n, err := h.sessions.Logout(c.Request().Context(), form.Get("logout_token"))
	switch {
	case errors.Is(err, session.ErrInvalidLogoutToken):
		return c.JSON(http.StatusBadRequest, errorBody{"invalid_request", err.Error()})
	case errors.Is(err, session.ErrLogoutNotRecorded):
		// A 5xx, so that the IdP retries: the session is not ended yet.
		h.s.log.ErrorContext(c.Request().Context(), "back-channel logout not recorded", "err", err)
		return unavailable(c, "the logout could not be recorded; retry later")
	case err != nil:
		h.s.log.WarnContext(c.Request().Context(), "back-channel logout failed", "err", err)
		return c.JSON(http.StatusBadRequest, errorBody{"temporarily_unavailable", "the logout could not be processed; retry later"})
	}
	return c.JSON(http.StatusOK, revokeResponse{Revoked: n})
}
