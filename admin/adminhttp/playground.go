package adminhttp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

type playgroundView struct {
	Rev    storage.PolicyRevision
	Input  string
	Result *admin.PlaygroundResult
	Error  string
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
	rev, _, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "playground", "Playground", "policies", playgroundView{Rev: rev, Input: s.exampleInput()})
}

func (s *server) playgroundSubmit(c echo.Context) error {
	rev, files, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	v := playgroundView{Rev: rev, Input: c.FormValue("input")}
	v.Result, err = admin.Playground(c.Request().Context(), s.cfg.Engine, files, []byte(v.Input))
	status := http.StatusOK
	var ce *policy.CompileError
	switch {
	case errors.Is(err, admin.ErrInvalid), errors.As(err, &ce):
		v.Error, status = err.Error(), http.StatusUnprocessableEntity
	case err != nil:
		return err
	}
	return s.render(c, status, "playground", "Playground", "policies", v)
}

// apiPlayground is the playground as JSON: the body is the policy input.
func (s *server) apiPlayground(c echo.Context) error {
	_, files, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "reading the body: "+err.Error())
	}
	res, err := admin.Playground(c.Request().Context(), s.cfg.Engine, files, body)
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
