package adminhttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

type activateView struct {
	Rev        storage.PolicyRevision
	Validation *admin.Validation
	Impact     *admin.Impact
	Reason     string
	Error      string
	Rollback   bool
}

func (s *server) activatePage(c echo.Context) error {
	return s.renderActivate(c, http.StatusOK, c.QueryParam("reason"), "")
}

func (s *server) renderActivate(c echo.Context, status int, reason, msg string) error {
	rev, files, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	val, err := s.cfg.Policies.Validate(c.Request().Context(), files)
	if err != nil {
		return err
	}
	v := activateView{Rev: rev, Validation: val, Reason: reason, Error: msg}
	if val.Compile == nil {
		if v.Impact, err = s.impact(c, files, s.cfg.ImpactSample); err != nil {
			return err
		}
	}
	return s.render(c, status, "activate", "Activate revision "+strconv.FormatInt(rev.ID, 10), "policies", v)
}

func (s *server) activateSubmit(c echo.Context) error {
	id, err := revisionID(c)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" || c.FormValue("confirm") != "yes" {
		return s.renderActivate(c, http.StatusUnprocessableEntity, reason, "Give a reason (it goes into the admin audit log) and tick the confirmation box.")
	}
	self := fmt.Sprintf("/policies/%d/activate?reason=%s", id, url.QueryEscape(reason))
	if ok, err := s.sensitive(c, admin.ActionPolicyActivate, self); !ok || err != nil {
		return err
	}
	rev, err := s.cfg.Policies.Activate(c.Request().Context(), sessionOf(c).Actor(), id, reason)
	if errors.Is(err, admin.ErrUnrecorded) {
		return err
	}
	if errors.Is(err, admin.ErrTestsFailed) || errors.Is(err, admin.ErrInvalid) {
		return s.renderActivate(c, http.StatusUnprocessableEntity, reason, err.Error())
	}
	if err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Revision %d is now active.", rev.ID))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/policies/%d", rev.ID))
}

func (s *server) rollbackPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "rollback", "Roll back", "policies", activateView{Rollback: true, Reason: c.QueryParam("reason")})
}

func (s *server) rollbackSubmit(c echo.Context) error {
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" || c.FormValue("confirm") != "yes" {
		return s.render(c, http.StatusUnprocessableEntity, "rollback", "Roll back", "policies",
			activateView{Rollback: true, Reason: reason, Error: "Give a reason and tick the confirmation box."})
	}
	if ok, err := s.sensitive(c, admin.ActionPolicyActivate, "/policies/rollback?reason="+url.QueryEscape(reason)); !ok || err != nil {
		return err
	}
	rev, err := s.cfg.Policies.Rollback(c.Request().Context(), sessionOf(c).Actor(), reason)
	if errors.Is(err, admin.ErrUnrecorded) {
		return err
	}
	if errors.Is(err, admin.ErrNoPrevious) || errors.Is(err, admin.ErrTestsFailed) || errors.Is(err, admin.ErrInvalid) {
		return s.render(c, http.StatusUnprocessableEntity, "rollback", "Roll back", "policies",
			activateView{Rollback: true, Reason: reason, Error: err.Error()})
	}
	if err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Rolled back: revision %d is active again.", rev.ID))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/policies/%d", rev.ID))
}

// freshWindow is how recent a sign-in must be for a repeated step-up to be
// treated as "this sign-in method cannot meet the policy" instead of
// sending the person round the loop again.
const freshWindow = 2 * time.Minute

// sensitive asks stepgate's engine whether the session may perform action.
// It reports false after it has answered the request itself: a redirect to
// re-authenticate (coming back to returnTo), or a refusal.
func (s *server) sensitive(c echo.Context, action, returnTo string) (bool, error) {
	sess := sessionOf(c)
	v, err := s.gate.Check(c.Request().Context(), sess, action)
	if err != nil {
		return false, err
	}
	switch {
	case v.Allowed:
		return true, nil
	case v.StepUp && s.cfg.Now().Sub(sess.AuthTime) > freshWindow:
		q := url.Values{"return_to": {returnTo}, "why": {"stepgate's policy asks for a fresh sign-in: " + v.Describe()}}
		req := v.Requirements
		if m := req.MaxAge; m != nil {
			q.Set("max_age", strconv.FormatInt(*m, 10))
		}
		if req.NeedsFreshLogin() || req.Empty() {
			// Nothing else would make the IdP authenticate again.
			q.Set("fresh_login", "1")
		}
		if len(req.ACRValues) > 0 {
			q.Set("acr_values", strings.Join(req.ACRValues, " "))
		}
		if len(req.AMRAny) > 0 {
			q.Set("amr_any", strings.Join(req.AMRAny, " "))
		}
		return false, c.Redirect(http.StatusSeeOther, "/auth/reauth?"+q.Encode())
	case v.StepUp:
		return false, s.refuse(c, action, v, "stepgate's policy for "+action+" asks for more than your sign-in provides, even after signing in again: "+v.Describe())
	}
	return false, s.refuse(c, action, v, "stepgate's policy refuses "+action+": "+v.Describe())
}

// refuse records that stepgate's policy refused the session's action and
// answers 403 with msg.
func (s *server) refuse(c echo.Context, action string, v admin.GateVerdict, msg string) error {
	err := s.recorder.Refused(c.Request().Context(), sessionOf(c).Actor(), action, msg,
		map[string]any{"decision_id": v.DecisionID, "route": c.Request().Method + " " + c.Path()})
	if err != nil {
		return err
	}
	return echo.NewHTTPError(http.StatusForbidden, msg)
}
