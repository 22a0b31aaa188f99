package adminhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

type playgroundView struct {
	Rev storage.PolicyRevision
	// Revisions are offered by the revision picker.
	Revisions []storage.PolicyRevision
	Input     string
	// Decision is the audited decision whose recorded input this is.
	Decision string
	Result   *admin.PlaygroundResult
	// Converted is the policy input a decision API request became.
	Converted string
	Error     string
}

// exampleInput is a starting point: a payment by a user who signed in with
// a password ten minutes ago.
func (s *server) exampleInput() string {
	now := s.cfg.Now().Unix()
	in := map[string]any{
		"subject": map[string]any{"type": "user", "id": "alice", "claims": map[string]any{
			"iss": "https://idp.example/", "sub": "alice", "amr": []string{"pwd"}, "auth_time": now - 600}},
		"action":   map[string]any{"name": "billing.pay"},
		"resource": map[string]any{"type": "invoice", "id": "inv_42"},
		"context":  map[string]any{"amount": 1200, "currency": "EUR", "channel": "web"},
		"now":      now,
		"client":   map[string]any{"id": "billing-svc"},
	}
	b, _ := json.MarshalIndent(in, "", "  ")
	return string(b)
}

func (s *server) playgroundPage(c echo.Context) error {
	id, err := revisionID(c)
	if err != nil {
		return err
	}
	return s.renderPlayground(c, http.StatusOK, id, playgroundView{Input: s.exampleInput()})
}

// playgroundDecision opens the playground with an audited decision's
// recorded input, against ?rev= or else the revision that decided it.
func (s *server) playgroundDecision(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.QueryParam("decision")
	v := playgroundView{Input: s.exampleInput()}
	var rev int64
	if id != "" {
		d, err := s.trail.Decision(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "No audit record has decision id "+id+".")
		}
		if err != nil {
			return err
		}
		if len(d.Decision.Rec.Input) == 0 {
			return echo.NewHTTPError(http.StatusNotFound, "Decision "+id+" has no recorded policy input (it never reached the policy).")
		}
		v.Decision, v.Input, rev = id, indentJSON(d.Decision.Rec.Input), d.Decision.Rec.PolicyRevision
	}
	if q := c.QueryParam("rev"); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "rev must be a revision number.")
		}
		rev = n
	}
	if rev > 0 {
		if _, err := s.cfg.Store.GetRevision(ctx, rev); errors.Is(err, storage.ErrNotFound) {
			rev = 0 // deleted since: fall back to the active revision
		} else if err != nil {
			return err
		}
	}
	if rev == 0 {
		active, _, err := s.cfg.Store.ActiveRevisionID(ctx)
		if err != nil {
			return fmt.Errorf("active revision: %w", err)
		}
		rev = active
	}
	return s.renderPlayground(c, http.StatusOK, rev, v)
}

func (s *server) playgroundSubmit(c echo.Context) error {
	id, err := revisionID(c)
	if err != nil {
		return err
	}
	return s.playgroundRun(c, id)
}

// playgroundPost decides against the revision picked in the form.
func (s *server) playgroundPost(c echo.Context) error {
	id, err := strconv.ParseInt(c.FormValue("rev"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "Pick a revision to decide with.")
	}
	return s.playgroundRun(c, id)
}

func (s *server) playgroundRun(c echo.Context, id int64) error {
	_, files, err := s.cfg.Policies.Files(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := playgroundView{Input: c.FormValue("input"), Decision: c.FormValue("decision")}
	status := http.StatusOK
	v.Result, err = s.decideInput(c, files, []byte(v.Input))
	var ce *policy.CompileError
	switch {
	case errors.Is(err, admin.ErrInvalid), errors.As(err, &ce):
		v.Error, status = err.Error(), http.StatusUnprocessableEntity
	case err != nil:
		return err
	}
	if v.Result != nil && admin.IsDecisionRequest([]byte(v.Input)) {
		b, _ := json.MarshalIndent(v.Result.Input, "", "  ")
		v.Converted = string(b)
	}
	return s.renderPlayground(c, status, id, v)
}

func (s *server) renderPlayground(c echo.Context, status int, id int64, v playgroundView) error {
	ctx := c.Request().Context()
	rev, err := s.cfg.Store.GetRevision(ctx, id)
	if err != nil {
		return fmt.Errorf("revision %d: %w", id, err)
	}
	rev.Bundle = nil
	if v.Revisions, err = s.cfg.Policies.List(ctx); err != nil {
		return err
	}
	v.Rev = rev
	return s.render(c, status, "playground", "Playground", "policies", v)
}

// decideInput decides body, a policy input or a decision API request,
// with files.
func (s *server) decideInput(c echo.Context, files policy.Files, body []byte) (*admin.PlaygroundResult, error) {
	var in *policy.Input
	var err error
	if admin.IsDecisionRequest(body) {
		// Parsed by the decision API's own parser, so that what it refuses
		// is refused here with the same words.
		req, perr := pdphttp.ParseRequest(body)
		if perr != nil {
			return nil, fmt.Errorf("%w: as a decision API request: %v", admin.ErrInvalid, perr)
		}
		in, err = admin.RequestInput(req, s.cfg.Now())
	} else {
		in, err = admin.ParseInput(body)
	}
	if err != nil {
		return nil, err
	}
	return admin.Playground(c.Request().Context(), s.cfg.Engine, files, in)
}

func indentJSON(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out)
}

// apiPlayground is the playground as JSON: the body is a policy input or a
// decision API request.
func (s *server) apiPlayground(c echo.Context) error {
	_, files, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "reading the body: "+err.Error())
	}
	res, err := s.decideInput(c, files, body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// apiValidate compiles and tests a revision, as JSON.
func (s *server) apiValidate(c echo.Context) error {
	_, files, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	v, err := s.cfg.Policies.Validate(c.Request().Context(), files)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"ok": v.OK(), "validation": v})
}

func (s *server) apiSession(c echo.Context) error {
	sess := sessionOf(c)
	return c.JSON(http.StatusOK, map[string]any{"user": sess.User, "role": sess.Role, "csrf_token": sess.CSRF})
}
