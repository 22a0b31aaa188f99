package adminhttp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

// approvalView is one four-eyes request with what approving it would
// change: the diff from the revision active now and the impact.
type approvalView struct {
	activateView
	Approval storage.PolicyApproval
	// Mine is true when the signed-in person asked for it: they may
	// withdraw it, not approve it.
	Mine    bool
	Pending bool
	// DecisionReason keeps what the approver typed after a refusal.
	DecisionReason string
}

type approvalsView struct {
	Pending, Recent []storage.PolicyApproval
	TTL             time.Duration
}

// requestApproval turns an activation or rollback into a request.
func (s *server) requestApproval(c echo.Context, kind string, id int64, reason string) error {
	a, err := s.approvals.Request(c.Request().Context(), sessionOf(c).Actor(), kind, id, reason)
	if refusedForInput(err) {
		if kind == storage.ApprovalRollback {
			return s.renderRollback(c, http.StatusUnprocessableEntity, reason, err.Error())
		}
		return s.renderActivate(c, http.StatusUnprocessableEntity, reason, err.Error())
	}
	if err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Request %d is waiting for another admin's approval; nothing changes until then (it expires %s).",
		a.ID, a.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/approvals/%d", a.ID))
}

// refusedForInput reports whether err is a refusal the person can act on
// (shown on the page) rather than a failure.
func refusedForInput(err error) bool {
	return err != nil && !errors.Is(err, admin.ErrUnrecorded) && (errors.Is(err, admin.ErrInvalid) || errors.Is(err, admin.ErrTestsFailed) ||
		errors.Is(err, admin.ErrNoPrevious) || errors.Is(err, admin.ErrTargetMoved))
}

func (s *server) approvalList(c echo.Context) error {
	if s.approvals == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Four-eyes approval is off (admin.require_approval); activations take effect at once.")
	}
	all, err := s.approvals.List(c.Request().Context(), "", 100)
	if err != nil {
		return err
	}
	v := approvalsView{TTL: s.approvals.TTL()}
	for _, a := range all {
		if a.Status == storage.ApprovalPending {
			v.Pending = append(v.Pending, a)
		} else {
			v.Recent = append(v.Recent, a)
		}
	}
	return s.render(c, http.StatusOK, "approvals", "Approvals", "policies", v)
}

func approvalID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, "There is no approval request "+c.Param("id")+".")
	}
	return id, nil
}

func (s *server) approvalPage(c echo.Context) error {
	return s.renderApproval(c, http.StatusOK, "", "")
}

// renderApproval shows request id and, while it is pending, the change
// approving it would make now.
func (s *server) renderApproval(c echo.Context, status int, reason, msg string) error {
	if s.approvals == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Four-eyes approval is off (admin.require_approval).")
	}
	id, err := approvalID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.approvals.Get(ctx, id)
	if err != nil {
		return err
	}
	v := approvalView{Approval: a, Mine: a.RequestedBy == sessionOf(c).Actor(), Pending: a.Status == storage.ApprovalPending,
		DecisionReason: reason}
	v.Error, v.Rollback = msg, a.Kind == storage.ApprovalRollback
	var files policy.Files
	if v.Rev, files, err = s.cfg.Policies.Files(ctx, a.RevisionID); err != nil {
		return err
	}
	if v.Pending {
		if v.Validation, err = s.cfg.Policies.Validate(ctx, files); err != nil {
			return err
		}
		if err := s.compareWithActive(c, &v.activateView, files); err != nil {
			return err
		}
		if v.Validation.Compile == nil {
			if v.Impact, err = s.impact(c, files, s.cfg.ImpactSample); err != nil {
				return err
			}
		}
	}
	return s.render(c, status, "approval", fmt.Sprintf("Approval request %d", a.ID), "policies", v)
}

// approvalSubmit approves (decision=approve) or rejects a request. An
// approval passes the same gate as the action it completes: stepgate's
// policy for activations, the rollback rule (with its break-glass) for
// rollbacks.
func (s *server) approvalSubmit(c echo.Context) error {
	if s.approvals == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Four-eyes approval is off (admin.require_approval).")
	}
	id, err := approvalID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sess := sessionOf(c)
	reason := strings.TrimSpace(c.FormValue("reason"))
	self := fmt.Sprintf("/approvals/%d", id)
	if c.FormValue("decision") == "reject" {
		_, err := s.approvals.Reject(ctx, sess.Actor(), id, reason)
		if refusedForInput(err) {
			return s.renderApproval(c, http.StatusUnprocessableEntity, reason, err.Error())
		}
		if err != nil {
			return err
		}
		s.flash(c, fmt.Sprintf("Request %d is rejected; nothing was activated.", id))
		return c.Redirect(http.StatusSeeOther, self)
	}
	if c.FormValue("confirm") != "yes" {
		return s.renderApproval(c, http.StatusUnprocessableEntity, reason, "Give a reason and tick the confirmation box.")
	}
	shown, err := strconv.ParseInt(c.FormValue("active"), 10, 64)
	if err != nil || shown < 0 {
		shown = -1 // not from the page that showed the change: refused as stale
	}
	a, err := s.approvals.Get(ctx, id)
	if err != nil {
		return err
	}
	var gate map[string]any
	if a.Kind == storage.ApprovalRollback {
		v := s.gate.CheckRollback(ctx, sess, s.cfg.Now())
		if !v.Allowed {
			return s.reauth(c, v, self)
		}
		if v.BreakGlass {
			gate = map[string]any{"gate": "break-glass", "active_policy": v.Describe(), "decision_id": v.DecisionID,
				"signed_in": sess.AuthTime.UTC().Format(time.RFC3339)}
		}
	} else if ok, err := s.sensitive(c, admin.ActionPolicyActivate, self); !ok || err != nil {
		return err
	}
	rev, err := s.approvals.Approve(ctx, sess.Actor(), id, reason, shown, gate)
	if refusedForInput(err) {
		return s.renderApproval(c, http.StatusUnprocessableEntity, reason, err.Error())
	}
	if err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Approved: revision %d is now active.", rev.ID))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/policies/%d", rev.ID))
}
