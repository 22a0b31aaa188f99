package pdphttp

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/trust"
)

// decision answers POST /v1/decision. A decided request is always 200,
// whatever the outcome; 4xx is only for requests that could not be decided.
func (s *Server) decision(c echo.Context) error {
	body, err := s.Body(c)
	if err != nil {
		return err
	}
	req, err := ParseRequest(body)
	if err != nil {
		return err
	}
	d, err := s.cfg.Service.Decide(c.Request().Context(), ClientOf(c), req)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, d)
}

type batchResponse struct {
	Decisions []*pdp.Decision `json:"decisions"`
}

// decisions answers POST /v1/decisions in request order.
func (s *Server) decisions(c echo.Context) error {
	body, err := s.Body(c)
	if err != nil {
		return err
	}
	reqs, err := ParseBatch(body)
	if err != nil {
		return err
	}
	ds, err := s.cfg.Service.DecideBatch(c.Request().Context(), ClientOf(c), reqs)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, batchResponse{Decisions: ds})
}

type verifyResponse struct {
	Verified    bool           `json:"verified"`
	Claims      map[string]any `json:"claims,omitempty"`
	ReturnTo    string         `json:"return_to,omitempty"`
	DecisionID  string         `json:"decision_id,omitempty"`
	Session     *sessionAnswer `json:"session,omitempty"`
	Error       string         `json:"error,omitempty"`
	Description string         `json:"error_description,omitempty"`
}

// verifyStepUp answers POST /v1/stepup/verify.
func (s *Server) verifyStepUp(c echo.Context) error {
	body, err := s.Body(c)
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
	f.only("transaction_id", "id_token", "session_id")
	txID, idToken, sessionID := f.str("transaction_id"), f.str("id_token"), f.str("session_id")
	if f.err != nil {
		return f.err
	}
	res, elev, err := s.cfg.Service.VerifyStepUpSession(c.Request().Context(), ClientOf(c), txID, idToken, sessionID)
	if err != nil {
		var ve *trust.VerifyError
		if !errors.As(err, &ve) {
			return err
		}
		if ve.Code == trust.VerifyUnavailable {
			s.log.ErrorContext(c.Request().Context(), "step-up verification unavailable", "err", err)
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
		}
		return c.JSON(verifyStatus(ve.Code), verifyResponse{Error: ve.Code, Description: ve.Description})
	}
	return c.JSON(http.StatusOK, verifyResponse{Verified: true, Claims: res.Claims,
		ReturnTo: res.Transaction.ReturnTo, DecisionID: res.Transaction.DecisionID, Session: sessionOf(elev)})
}

func verifyStatus(code string) int {
	switch code {
	case trust.VerifyUnknownTransaction:
		return http.StatusNotFound
	case trust.VerifyTransactionUsed:
		return http.StatusConflict
	case trust.VerifyTransactionExpired:
		return http.StatusGone
	case trust.VerifyInsufficient, trust.VerifyStaleAuthTime, trust.VerifyMissingAuthTime, trust.VerifySubjectMismatch:
		return http.StatusForbidden
	case trust.VerifyUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}
