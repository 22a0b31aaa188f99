package pdphttp

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/clientauth"
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

// errorHandler maps errors to status codes and stable codes in one place.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := classify(err)
		if status == http.StatusUnauthorized {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="stepgate"`)
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
