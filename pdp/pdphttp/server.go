package pdphttp

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/readiness"
)

// DefaultMaxBodyBytes is the request body limit unless configured.
const DefaultMaxBodyBytes = 64 << 10

// ClientAuthenticator resolves a client key; *pdp.Authenticator implements it.
type ClientAuthenticator interface {
	Authenticate(ctx context.Context, key string) (clientauth.Client, error)
}

// Readiness reports the checks /readyz answers with.
type Readiness interface {
	Report() readiness.Report
}

// Config wires the decision API.
type Config struct {
	Service *pdp.Service
	Clients ClientAuthenticator
	// MaxBodyBytes limits request bodies; default 64 KiB.
	MaxBodyBytes int64
	// Readiness answers /readyz (a *readiness.Prober); nil reports only
	// whether a policy revision is active.
	Readiness Readiness
	// Metrics serves /metrics; nil leaves the route out.
	Metrics http.Handler
	Logger  *slog.Logger
}

// Server is the decision API's router.
type Server struct {
	cfg  Config
	echo *echo.Echo
	log  *slog.Logger
}

// New builds the router with every route registered.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil || cfg.Clients == nil {
		return nil, errors.New("pdphttp: Service and Clients are required")
	}
	cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{cfg: cfg, echo: e, log: cfg.Logger}
	e.HTTPErrorHandler = errorHandler(cfg.Logger)
	e.Use(requestID, s.recoverPanics, s.accessLog)

	e.POST("/v1/decision", s.decision, s.authenticate)
	e.POST("/v1/decisions", s.decisions, s.authenticate)
	e.POST("/v1/stepup/verify", s.verifyStepUp, s.authenticate)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET(PathOpenAPI, s.openAPI)
	if cfg.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(cfg.Metrics))
	}
	return s, nil
}

// Echo exposes the router so that other adapters (AuthZEN, CIBA) can add
// routes with the same middleware and error handling.
func (s *Server) Echo() *echo.Echo { return s.echo }

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

const clientKey = "stepgate.client"

// authenticate resolves the Bearer client key before the handler runs.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key, ok := bearer(c.Request().Header.Get(echo.HeaderAuthorization))
		if !ok {
			return clientauth.ErrUnauthenticated
		}
		cl, err := s.cfg.Clients.Authenticate(c.Request().Context(), key)
		if err != nil {
			return err
		}
		c.Set(clientKey, cl)
		return next(c)
	}
}

// Authenticated wraps h with client authentication, for adapters that add
// routes through Echo.
func (s *Server) Authenticated(h echo.HandlerFunc) echo.HandlerFunc { return s.authenticate(h) }

// ClientOf returns the client authenticate stored in c.
func ClientOf(c echo.Context) clientauth.Client {
	cl, _ := c.Get(clientKey).(clientauth.Client)
	return cl
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// Body reads the JSON request body within the size limit.
func (s *Server) Body(c echo.Context) ([]byte, error) {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" && ct != echo.MIMEApplicationJSON {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != echo.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
			return nil, errUnsupportedMedia
		}
	}
	r := http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxBodyBytes)
	var b []byte
	var err error
	if n := req.ContentLength; n > 0 && n <= s.cfg.MaxBodyBytes {
		// The usual case: read the announced length into a buffer of that
		// size, instead of growing one from 512 bytes.
		b = make([]byte, n)
		if _, err = io.ReadFull(r, b); err == nil {
			err = expectEOF(r)
		}
	} else {
		b, err = io.ReadAll(r)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, invalidf("reading the request body: %v", err)
	}
	if len(b) == 0 {
		return nil, invalidf("the request body is empty; send a JSON object")
	}
	return b, nil
}

// expectEOF reports an error when r has data beyond the announced length
// (net/http never delivers more than Content-Length; this keeps the read
// honest should a caller hand Body another reader).
func expectEOF(r io.Reader) error {
	var one [1]byte
	n, err := r.Read(one[:])
	switch {
	case n > 0:
		return errors.New("body longer than its Content-Length")
	case err == io.EOF:
		return nil
	}
	return err
}

// jsonBufs recycles response buffers.
var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON renders v as echo's c.JSON does (encoding/json, a newline at
// the end), in one write from a pooled buffer and without parsing the
// query string for echo's ?pretty.
func writeJSON(c echo.Context, status int, v any) error {
	buf := jsonBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			jsonBufs.Put(buf)
		}
	}()
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return fmt.Errorf("render response: %w", err)
	}
	return c.Blob(status, echo.MIMEApplicationJSON, buf.Bytes())
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyzBody is /readyz's answer: "ready" or "not ready", and every check
// with its state.
type readyzBody struct {
	Status string            `json:"status"`
	Checks []readiness.Check `json:"checks"`
}

// readyz answers 200 when every check passes and 503 otherwise, never
// cached. The report is kept up to date by the prober in the background,
// so a request costs no database round trip.
func (s *Server) readyz(c echo.Context) error {
	var rep readiness.Report
	if s.cfg.Readiness != nil {
		rep = s.cfg.Readiness.Report()
	} else if p := s.cfg.Service.Engine().Active(); p != nil {
		id, _ := p.Revision()
		rep.Checks = []readiness.Check{{Name: readiness.CheckPolicy, Status: readiness.StatusOK, Detail: fmt.Sprintf("revision %d is active", id)}}
	} else {
		rep.Checks = []readiness.Check{{Name: readiness.CheckPolicy, Status: readiness.StatusFailing, Detail: "no policy revision is active"}}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if !rep.Ready() {
		return c.JSON(http.StatusServiceUnavailable, readyzBody{Status: "not ready", Checks: rep.Checks})
	}
	return c.JSON(http.StatusOK, readyzBody{Status: "ready", Checks: rep.Checks})
}
