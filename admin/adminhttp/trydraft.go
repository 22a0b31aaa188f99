package adminhttp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

// Ways to try an unsaved edit: the values of the edit form's try button.
const (
	tryCheck  = "check"  // compile and run the Rego tests
	tryDecide = "decide" // decide one input (a dry run)
	tryImpact = "impact" // replay recent audited decisions
)

// tryView is what trying an unsaved edit found. Nothing of it is stored.
type tryView struct {
	Op         string
	Validation *admin.Validation
	Decision   *admin.PlaygroundResult
	Impact     *admin.Impact
	// Shown are the first of Impact's changes.
	Shown []admin.ImpactChange
	// Error is a problem with the tried input, not with the edit.
	Error string
}

// editTry compiles, tests, decides or replays the edit form's bundle as
// typed, without creating a revision, and shows the form again with the
// result above it.
func (s *server) editTry(c echo.Context) error {
	next, v, err := s.editedBundle(c)
	if err != nil || len(v.Errors) > 0 {
		return s.editFailed(c, v, err)
	}
	ctx := c.Request().Context()
	t := &tryView{Op: c.FormValue("try")}
	v.Try = t
	var ce *policy.CompileError
	switch t.Op {
	case tryCheck:
		t.Validation, err = s.cfg.Policies.Validate(ctx, next)
		if err == nil && t.Validation.Compile != nil {
			err = t.Validation.Compile
		}
	case tryDecide:
		t.Decision, err = s.decideInput(c, next, []byte(v.TryInput))
		if errors.Is(err, admin.ErrInvalid) {
			t.Error, err = err.Error(), nil
		}
	case tryImpact:
		if t.Impact, err = s.impact(c, next, s.cfg.ImpactSample); err == nil {
			t.Shown = t.Impact.Changed[:min(len(t.Impact.Changed), maxShownChanges)]
		}
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "Pick what to try: check, decide or impact.")
	}
	switch {
	case errors.As(err, &ce):
		attachIssues(v, ce)
		return s.renderEdit(c, http.StatusUnprocessableEntity, v)
	case errors.Is(err, admin.ErrInvalid):
		v.Errors = append(v.Errors, err.Error())
		return s.renderEdit(c, http.StatusUnprocessableEntity, v)
	case err != nil:
		return err
	}
	return s.renderEdit(c, http.StatusOK, v)
}

// discardSubmit deletes a draft that was never active.
func (s *server) discardSubmit(c echo.Context) error {
	id, err := revisionID(c)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	rev, err := s.cfg.Policies.Discard(c.Request().Context(), sessionOf(c).Actor(), id, reason)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("There is no revision %d (any more).", id))
	case errors.Is(err, admin.ErrInvalid) && !errors.Is(err, admin.ErrUnrecorded):
		return echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("Revision %d is or was active, so it stays: only drafts that never went live can be discarded.", id))
	case err != nil:
		return err
	}
	s.flash(c, fmt.Sprintf("Discarded draft revision %d (%s).", rev.ID, rev.Message))
	return c.Redirect(http.StatusSeeOther, "/policies")
}
