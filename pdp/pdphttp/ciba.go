package pdphttp

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/policy"
)

// RegisterCIBA adds the routes of CIBA run by stepgate:
//
//	POST /v1/ciba        start: {"decision_id"} or an explicit user
//	GET  /v1/ciba/{id}   pending | approved (with verified claims) | denied | expired | error
//
// Both need a client key; a client sees only the requests it started.
func (s *Server) RegisterCIBA(r *ciba.Runner) {
	h := cibaHandlers{s: s, r: r}
	s.echo.POST("/v1/ciba", h.start, s.authenticate)
	s.echo.GET("/v1/ciba/:id", h.status, s.authenticate)
}

type cibaHandlers struct {
	s *Server
	r *ciba.Runner
}

func (h cibaHandlers) start(c echo.Context) error {
	body, err := h.s.Body(c)
	if err != nil {
		return err
	}
	v, err := DecodeJSON(body)
	if err != nil {
		return invalidf("%s", err)
	}
	f, err := newFields("", v)
	if err != nil {
		return err
	}
	f.only("decision_id", "issuer", "subject", "login_hint", "binding_message", "action", "requirements")
	in := ciba.StartRequest{DecisionID: f.str("decision_id"), Issuer: f.str("issuer"), Subject: f.str("subject"),
		LoginHint: f.str("login_hint"), BindingMessage: f.str("binding_message"), Action: f.str("action")}
	if m, ok := f.object("requirements"); ok {
		in.Requirements, err = requirementsOf(m)
		if err != nil {
			return err
		}
	}
	if f.err != nil {
		return f.err
	}
	st, err := h.r.Start(c.Request().Context(), ClientOf(c), in)
	if err != nil {
		return h.fail(c, err)
	}
	code := http.StatusCreated
	if st.Status != "pending" {
		code = http.StatusOK
	}
	return c.JSON(code, st)
}

func (h cibaHandlers) status(c echo.Context) error {
	st, err := h.r.Status(c.Request().Context(), ClientOf(c), c.Param("id"))
	if err != nil {
		return h.fail(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, st)
}

// fail renders the runner's errors with stable codes; the rest go to the
// shared error handler.
func (h cibaHandlers) fail(c echo.Context, err error) error {
	var idp *ciba.IdPError
	switch {
	case errors.Is(err, ciba.ErrNotFound):
		return c.JSON(http.StatusNotFound, errorBody{"not_found", "no such ciba request for this client"})
	case errors.Is(err, ciba.ErrNotStarted):
		return c.JSON(http.StatusConflict, errorBody{"not_started", err.Error()})
	case errors.Is(err, ciba.ErrOfferGone):
		return c.JSON(http.StatusGone, errorBody{"expired", err.Error()})
	case errors.As(err, &idp):
		return c.JSON(http.StatusBadGateway, errorBody{"idp_rejected", idp.Error()})
	case errors.Is(err, ciba.ErrUnavailable):
		h.s.log.WarnContext(c.Request().Context(), "ciba unavailable", "err", err)
		return unavailable(c, "ciba is temporarily unavailable; retry later")
	}
	return err
}

// requirementsOf reads {"acr_values": [...], "amr_any": [...], "max_age": N}.
func requirementsOf(m map[string]any) (policy.Requirements, error) {
	f := &fields{path: "requirements", obj: m}
	f.only("acr_values", "amr_any", "max_age")
	var r policy.Requirements
	r.ACRValues, r.AMRAny = f.strings("acr_values"), f.strings("amr_any")
	if v, ok := m["max_age"]; ok && v != nil {
		n, ok := v.(interface{ Int64() (int64, error) })
		var age int64
		var err error
		if ok {
			age, err = n.Int64()
		}
		if !ok || err != nil || age < 0 {
			f.fail("requirements.max_age must be a non-negative integer")
		}
		r.MaxAge = &age
	}
	return r, f.err
}
