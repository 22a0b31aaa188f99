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
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

type activateView struct {
	Rev        storage.PolicyRevision
	Validation *admin.Validation
	Impact     *admin.Impact
	Reason     string
	Error      string
	Rollback   bool
	// Active is the revision active now, which Rev would replace; Summary
	// and Files are the change from it to Rev.
	Active   storage.PolicyRevision
	Summary  []admin.TableChange
	HasTable bool
	Files    []admin.FileDiff
	// RequireApproval turns the form into a request for another admin's
	// approval.
	RequireApproval bool
}

func (s *server) activatePage(c echo.Context) error {
	return s.renderActivate(c, http.StatusOK, c.QueryParam("reason"), "")
}

// compareWithActive fills the change from the active revision to files.
func (s *server) compareWithActive(c echo.Context, v *activateView, files policy.Files) error {
	ctx := c.Request().Context()
	active, err := s.cfg.Store.ActiveRevision(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var current policy.Files
	if v.Active, current, err = s.cfg.Policies.Files(ctx, active.ID); err != nil {
		return err
	}
	v.Summary, v.HasTable = admin.SummarizeTables(current, files)
	v.Files = admin.DiffFiles(current, files)
	return nil
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
	v := activateView{Rev: rev, Validation: val, Reason: reason, Error: msg, RequireApproval: s.approvals != nil}
	if err := s.compareWithActive(c, &v, files); err != nil {
		return err
	}
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
	if s.approvals != nil {
		return s.requestApproval(c, storage.ApprovalActivate, id, reason)
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

// renderRollback shows the rollback target (the revision that becomes
// active), the change from the active revision to it and its impact.
func (s *server) renderRollback(c echo.Context, status int, reason, msg string) error {
	ctx := c.Request().Context()
	v := activateView{Rollback: true, Reason: reason, Error: msg, RequireApproval: s.approvals != nil}
	target, err := s.cfg.Policies.RollbackTarget(ctx)
	if errors.Is(err, admin.ErrNoPrevious) {
		if v.Error == "" {
			v.Error = "There is no earlier active revision to roll back to."
		}
		return s.render(c, status, "rollback", "Roll back", "policies", v)
	}
	if err != nil {
		return err
	}
	var files policy.Files
	if v.Rev, files, err = s.cfg.Policies.Files(ctx, target.ID); err != nil {
		return err
	}
	if err := s.compareWithActive(c, &v, files); err != nil {
		return err
	}
	if v.Impact, err = s.impact(c, files, s.cfg.ImpactSample); err != nil {
		return err
	}
	return s.render(c, status, "rollback", "Roll back to revision "+strconv.FormatInt(target.ID, 10), "policies", v)
}

func (s *server) rollbackPage(c echo.Context) error {
	return s.renderRollback(c, http.StatusOK, c.QueryParam("reason"), "")
}

// rollbackSubmit rolls back to the revision the page showed. The active
// policy cannot lock this path: admin.Gate.CheckRollback lets the built-in
// rule decide when the policy fails or cannot be met (a fresh sign-in,
// recorded as break-glass with the rollback).
func (s *server) rollbackSubmit(c echo.Context) error {
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" || c.FormValue("confirm") != "yes" {
		return s.renderRollback(c, http.StatusUnprocessableEntity, reason, "Give a reason and tick the confirmation box.")
	}
	expect, err := strconv.ParseInt(c.FormValue("target"), 10, 64)
	if err != nil || expect <= 0 {
		// Not from the page that names the target: refused (and recorded)
		// by RollbackTo, after the checks every rollback passes.
		expect = -1
	}
	sess := sessionOf(c)
	v := s.gate.CheckRollback(c.Request().Context(), sess, s.cfg.Now())
	if !v.Allowed {
		// CheckRollback asks only for what a sign-in can give.
		return s.reauth(c, v, "/policies/rollback?reason="+url.QueryEscape(reason))
	}
	if s.approvals != nil {
		// Four eyes: a break-glass sign-in lets the request be made, and
		// the approver passes the same rule; nobody rolls back alone.
		return s.requestApproval(c, storage.ApprovalRollback, expect, reason)
	}
	opts := admin.RollbackOptions{Expect: expect, Detail: map[string]any{"gate": "policy"}}
	if v.BreakGlass {
		opts.Detail = map[string]any{"gate": "break-glass", "active_policy": v.Describe(), "decision_id": v.DecisionID,
			"signed_in": sess.AuthTime.UTC().Format(time.RFC3339)}
	}
	rev, err := s.cfg.Policies.RollbackTo(c.Request().Context(), sess.Actor(), reason, opts)
	if errors.Is(err, admin.ErrUnrecorded) {
		return err
	}
	if errors.Is(err, admin.ErrNoPrevious) || errors.Is(err, admin.ErrTestsFailed) || errors.Is(err, admin.ErrInvalid) || errors.Is(err, admin.ErrTargetMoved) {
		return s.renderRollback(c, http.StatusUnprocessableEntity, reason, err.Error())
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Rolled back: revision %d is active again.", rev.ID)
	if v.BreakGlass {
		msg += " The active policy could not decide the rollback (" + v.Describe() + "); the built-in rule allowed it after your fresh sign-in, and the audit log records that."
	}
	s.flash(c, msg)
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
		return false, s.reauth(c, v, returnTo)
	case v.StepUp:
		return false, s.refuse(c, action, v, "stepgate's policy for "+action+" asks for more than your sign-in provides, even after signing in again: "+v.Describe())
	}
	return false, s.refuse(c, action, v, "stepgate's policy refuses "+action+": "+v.Describe())
}

// reauth sends the person to sign in again meeting v's requirements,
// coming back to returnTo.
func (s *server) reauth(c echo.Context, v admin.GateVerdict, returnTo string) error {
	why := "stepgate's policy asks for a fresh sign-in: " + v.Describe()
	if v.BreakGlass {
		why = "The active policy cannot decide this rollback (" + v.Describe() + "); sign in again to roll back without it."
	}
	q := url.Values{"return_to": {returnTo}, "why": {why}}
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
	return c.Redirect(http.StatusSeeOther, "/auth/reauth?"+q.Encode())
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
