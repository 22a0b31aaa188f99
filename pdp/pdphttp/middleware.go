package pdphttp

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp"
)

// requestID echoes a caller's X-Request-ID when it is short and printable,
// or creates one, and puts it in the request context for logs and audit.
// The headers are read and written under the canonical key directly, which
// spares canonicalising it twice per request.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := ""
		if v := c.Request().Header[echo.HeaderXRequestID]; len(v) > 0 {
			id = v[0]
		}
		if !saneRequestID(id) {
			id = newRequestID()
		}
		c.Response().Header()[echo.HeaderXRequestID] = []string{id}
		req := c.Request()
		c.SetRequest(req.WithContext(pdp.WithRequestID(req.Context(), id)))
		return next(c)
	}
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recoverPanics turns a handler panic into a 500 (the decision path itself
// recovers into deny long before this).
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic in handler: %v\n%s", r, debug.Stack())
			}
		}()
		return next(c)
	}
}

// accessLog renders handler errors and logs each request at debug level;
// with debug off (the default) it builds no log attributes at all.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if !s.log.Enabled(ctx, slog.LevelDebug) {
			if err := next(c); err != nil {
				c.Error(err)
			}
			return nil
		}
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		s.log.DebugContext(ctx, "http request",
			"method", c.Request().Method, "path", c.Request().URL.Path,
			"status", c.Response().Status, "duration", time.Since(start),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
}
