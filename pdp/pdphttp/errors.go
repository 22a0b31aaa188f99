package pdphttp

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/session"
)

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// errTooLarge is returned when the body exceeds the configured limit.
var errTooLarge = errors.New("request body too large")

// errUnsupportedMedia is returned for a body that is not JSON.
var errUnsupportedMedia = errors.New("Content-Type must be application/json")

// RetryAfter is what a 503 asks the caller to wait before trying again:
// about the time the readiness prober takes to notice that the store is
// back while it is failing.
const RetryAfter = 2 * time.Second

// unavailable answers 503 temporarily_unavailable with Retry-After: the
// request could be neither answered nor refused because a dependency (the
// store) failed, and the same request may well succeed in a moment.
func unavailable(c echo.Context, description string) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
	return c.JSON(http.StatusServiceUnavailable, errorBody{"temporarily_unavailable", description})
}

// errorHandler maps errors to status codes and stable codes in one place.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := classify(err)
		switch status {
		case http.StatusUnauthorized:
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="stepgate"`)
		case http.StatusServiceUnavailable:
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
		}
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed", "err", err,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "path", c.Path())
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

func classify(err error) (int, errorBody) {
	var he *echo.HTTPError
	switch {
	case errors.Is(err, clientauth.ErrInvalidRequest):
		return http.StatusBadRequest, errorBody{"invalid_request", strings.TrimPrefix(err.Error(), errPrefix)}
	case errors.Is(err, clientauth.ErrUnauthenticated):
		return http.StatusUnauthorized, errorBody{"invalid_client", "a valid client key is required as Authorization: Bearer <key>"}
	case errors.Is(err, clientauth.ErrUnavailable), errors.Is(err, session.ErrLogoutNotRecorded):
		return http.StatusServiceUnavailable, errorBody{"temporarily_unavailable", "the store is temporarily unavailable; retry after " +
			strconv.Itoa(int(RetryAfter/time.Second)) + " seconds"}
	case errors.Is(err, clientauth.ErrForbidden):
		return http.StatusForbidden, errorBody{"access_denied", strings.TrimPrefix(err.Error(), clientauth.ErrForbidden.Error()+": ")}
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, errorBody{"request_too_large", err.Error()}
	case errors.Is(err, errUnsupportedMedia):
		return http.StatusUnsupportedMediaType, errorBody{"invalid_request", err.Error()}
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, errorBody{"not_found", "no such endpoint"}
		case http.StatusMethodNotAllowed:
			return he.Code, errorBody{"method_not_allowed", "method not allowed on this endpoint"}
		case http.StatusRequestEntityTooLarge:
			return he.Code, errorBody{"request_too_large", "request body too large"}
		}
		if he.Code < 500 {
			return he.Code, errorBody{"invalid_request", http.StatusText(he.Code)}
		}
	}
	return http.StatusInternalServerError, errorBody{"server_error", "internal error; see the server log for the request id"}
}
