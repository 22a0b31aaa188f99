package adminhttp

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

type policyListView struct {
	Revisions []storage.PolicyRevision
	ActiveID  int64
	// Timeline is every activation period, newest first.
	Timeline []storage.RevisionActivation
	// Approvals is set in four-eyes mode; Pending counts waiting requests.
	Approvals bool
	Pending   int
}

func (s *server) policyList(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := s.cfg.Policies.List(ctx)
	if err != nil {
		return err
	}
	v := policyListView{Revisions: list, Approvals: s.approvals != nil}
	if v.Timeline, err = s.cfg.Store.ListActivations(ctx, 0); err != nil {
		return err
	}
	if s.approvals != nil {
		pending, err := s.approvals.List(ctx, storage.ApprovalPending, 0)
		if err != nil {
			return err
		}
		v.Pending = len(pending)
	}
	for _, r := range list {
		if r.State == storage.RevisionActive {
			v.ActiveID = r.ID
		}
	}
	return s.render(c, http.StatusOK, "policies", "Policies", "policies", v)
}

// fileView is one bundle file for display.
type fileView struct {
	Name    string
	Content string
	Test    bool
}

type policyView struct {
	Rev        storage.PolicyRevision
	Files      []fileView
	Actions    []admin.ActionRule
	HasTable   bool
	TableErr   string
	Validation *admin.Validation
	Others     []storage.PolicyRevision
	// Timeline is every period the revision was active, newest first.
	Timeline []storage.RevisionActivation
	// Warnings are the bundle's own (admin.BundleWarnings: no tests).
	Warnings []string
}

func revisionID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, "There is no policy revision "+c.Param("id")+".")
	}
	return id, nil
}

func (s *server) loadRevision(c echo.Context) (storage.PolicyRevision, policy.Files, error) {
	id, err := revisionID(c)
	if err != nil {
		return storage.PolicyRevision{}, nil, err
	}
	return s.cfg.Policies.Files(c.Request().Context(), id)
}

func (s *server) policyPage(c echo.Context, status int, v *policyView, files policy.Files) error {
	for _, n := range files.Names() {
		v.Files = append(v.Files, fileView{Name: n, Content: string(files[n]), Test: policy.IsTestModule(n)})
	}
	slices.SortStableFunc(v.Files, func(a, b fileView) int {
		if a.Test != b.Test {
			if a.Test {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Name, b.Name)
	})
	v.Warnings = admin.BundleWarnings(files)
	var err error
	v.Actions, v.HasTable, err = admin.ReadActions(files)
	if err != nil {
		v.TableErr = err.Error()
	}
	all, err := s.cfg.Policies.List(c.Request().Context())
	if err != nil {
		return err
	}
	if v.Timeline, err = s.cfg.Store.ListActivations(c.Request().Context(), v.Rev.ID); err != nil {
		return err
	}
	for _, r := range all {
		if r.ID != v.Rev.ID {
			v.Others = append(v.Others, r)
		}
	}
	return s.render(c, status, "policy", "Policy revision "+strconv.FormatInt(v.Rev.ID, 10), "policies", v)
}

func (s *server) policyView(c echo.Context) error {
	rev, files, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	return s.policyPage(c, http.StatusOK, &policyView{Rev: rev}, files)
}

// policyTest runs the revision's Rego tests; reading only, so auditors may.
func (s *server) policyTest(c echo.Context) error {
	rev, files, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	val, err := s.cfg.Policies.Validate(c.Request().Context(), files)
	if err != nil {
		return err
	}
	return s.policyPage(c, http.StatusOK, &policyView{Rev: rev, Validation: val}, files)
}

type diffView struct {
	A, B      int64
	Revisions []storage.PolicyRevision
	Files     []admin.FileDiff
	Compared  bool
	// Summary says in words what changed in the requirements table;
	// HasTable is false when either revision has no table to compare.
	Summary  []admin.TableChange
	HasTable bool
}

func (s *server) policyDiff(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := s.cfg.Policies.List(ctx)
	if err != nil {
		return err
	}
	v := diffView{Revisions: list}
	v.A, _ = strconv.ParseInt(c.QueryParam("a"), 10, 64)
	v.B, _ = strconv.ParseInt(c.QueryParam("b"), 10, 64)
	if v.A > 0 && v.B > 0 {
		_, fa, err := s.cfg.Policies.Files(ctx, v.A)
		if err != nil {
			return err
		}
		_, fb, err := s.cfg.Policies.Files(ctx, v.B)
		if err != nil {
			return err
		}
		v.Files, v.Compared = admin.DiffFiles(fa, fb), true
		v.Summary, v.HasTable = admin.SummarizeTables(fa, fb)
	}
	return s.render(c, http.StatusOK, "diff", "Compare revisions", "policies", v)
}

type impactView struct {
	Rev    storage.PolicyRevision
	N      int
	Impact *admin.Impact
	// Action and Change filter the listed changes; Matching counts them.
	Action, Change string
	Matching       int
	Shown          []admin.ImpactChange
}

const maxShownChanges = 200

// impact replays recent decisions against the active revision and files.
func (s *server) impact(c echo.Context, files policy.Files, n int) (*admin.Impact, error) {
	return s.cfg.Policies.ImpactAgainstActive(c.Request().Context(), s.cfg.Store, files, n)
}

func (s *server) policyImpact(c echo.Context) error {
	rev, files, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	n := s.cfg.ImpactSample
	if q, err := strconv.Atoi(c.QueryParam("n")); err == nil && q > 0 {
		n = min(q, admin.MaxImpactSample)
	}
	imp, err := s.impact(c, files, n)
	if err != nil {
		return err
	}
	v := impactView{Rev: rev, N: n, Impact: imp, Action: c.QueryParam("action"), Change: c.QueryParam("change")}
	match := imp.Filter(v.Action, v.Change)
	v.Matching, v.Shown = len(match), match[:min(len(match), maxShownChanges)]
	return s.render(c, http.StatusOK, "impact", "Impact of revision "+strconv.FormatInt(rev.ID, 10), "policies", v)
}

// readRules lists the action names of a bundle's requirements table.
func readRules(files policy.Files) ([]string, bool, error) {
	rules, has, err := admin.ReadActions(files)
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.Name
	}
	return names, has, err
}
