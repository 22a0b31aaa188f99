package adminhttp

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
)

// auditRowView is one search result with the facts auditors look for: the
// sign-in facts of a decision, or the detail of a flow record.
type auditRowView struct {
	trail.Entry
	Flow []flowFact
}

type auditView struct {
	Filter  auditFilter
	Rows    []auditRowView
	Scanned int
	// Count is how many records match (without the MFA filter), exact up
	// to trail.CountBound.
	Count      storage.AuditCount
	CountBound int
	// Journal is this replica's audit journal, when it has one: how far
	// its records are indexed for search (the search waited for the
	// records answered before it, up to a bound).
	Journal *admin.QueueStats
	// Actions are the active policy's, suggested in the action field.
	Actions []string
	// Kinds and Outcomes are the choices of the form's selects.
	Kinds    []string
	Outcomes []outcomeGroup
	// Saved are the person's saved searches; SaveErrors the save form's.
	Saved      []savedLink
	SaveErrors admin.FieldErrors
	SaveName   string
	// Query is the current search as a query string, for the save form.
	Query string
	// ExportCSV, ExportNDJSON and the paging links are built here, already
	// encoded: html/template would escape a query string spliced into an
	// href, dropping the filter from the link. Newer and Older lead to
	// the neighbouring pages whichever the order; First to the start.
	ExportCSV, ExportNDJSON, Newer, Older, First template.URL
}

type savedLink struct {
	ID   int64
	Name string
	URL  template.URL
}

// links fills the export and paging links of v for filter f and the
// page's cursors.
func (v *auditView) links(f auditFilter, next, prev string) {
	q := f.Values()
	link := func(path string, set ...string) template.URL {
		u := url.Values{}
		for k, x := range q {
			u[k] = x
		}
		for i := 0; i+1 < len(set); i += 2 {
			u.Set(set[i], set[i+1])
		}
		return template.URL(path + "?" + u.Encode())
	}
	v.ExportCSV, v.ExportNDJSON = link("/audit/export", "format", "csv"), link("/audit/export", "format", "ndjson")
	v.Query = q.Encode()
	var after, before template.URL
	if next != "" {
		after = link("/audit", "cursor", next)
	}
	if prev != "" {
		before, v.First = link("/audit", "cursor", prev, "dir", "prev"), link("/audit")
	}
	// Newest first, the page after this one is older; oldest first, newer.
	v.Older, v.Newer = after, before
	if f.Order == "oldest" {
		v.Older, v.Newer = before, after
	}
}

func (s *server) auditSearch(c echo.Context) error {
	ctx := c.Request().Context()
	f, ferr := parseAuditFilter(c, s.cfg.Now())
	v := auditView{Filter: f, Kinds: auditKinds, Outcomes: outcomeGroups, CountBound: trail.CountBound}
	// Suggestions are a convenience: without an active revision the form
	// still works.
	v.Actions, _ = s.cfg.Policies.ActiveActions(ctx)
	if err := s.savedSearches(c, &v); err != nil {
		return err
	}
	status, next, prev := http.StatusOK, "", ""
	if ferr != nil {
		status = http.StatusBadRequest
	} else {
		page, err := s.trail.Search(ctx, f.Trail())
		if err != nil {
			return err
		}
		if v.Count, err = s.trail.Count(ctx, f.Trail()); err != nil {
			return err
		}
		v.Rows, next, prev, v.Scanned = rowsOf(page.Entries), page.NextCursor, page.PrevCursor, page.Scanned
	}
	if s.cfg.AuditQueue != nil {
		if q := s.cfg.AuditQueue(); q.Journal {
			v.Journal = &q
		}
	}
	v.links(f, next, prev)
	return s.render(c, status, "audit", "Audit search", "audit", v)
}

func (s *server) apiAuditSearch(c echo.Context) error {
	f, err := parseAuditFilter(c, s.cfg.Now())
	if err != nil {
		return err
	}
	page, err := s.trail.Search(c.Request().Context(), f.Trail())
	if err != nil {
		return err
	}
	recs := make([]storage.AuditRecord, len(page.Entries))
	for i, e := range page.Entries {
		recs[i] = e.Rec
	}
	n, err := s.trail.Count(c.Request().Context(), f.Trail())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"records": recs, "next_cursor": page.NextCursor,
		"prev_cursor": page.PrevCursor, "count": n.N, "count_is_lower_bound": n.More})
}

// auditKinds are the record kinds the search form offers.
var auditKinds = []string{storage.KindDecision, storage.KindStepUp, storage.KindCIBA, storage.KindSession, storage.KindAdmin, storage.KindCheckpoint}

// auditExport streams every record matching the filter in admin's one
// export format, the bytes `stepgate audit export` writes for it.
func (s *server) auditExport(c echo.Context) error {
	f, err := parseAuditFilter(c, s.cfg.Now())
	if err != nil {
		return err
	}
	format, err := trail.ParseFormat(c.QueryParam("format"))
	if err != nil {
		return err
	}
	w := c.Response()
	name := "stepgate-audit-" + s.cfg.Now().UTC().Format("20060102-150405") + "." + string(format)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set(echo.HeaderContentType, format.ContentType())
	w.WriteHeader(http.StatusOK)
	if err := s.trail.Export(c.Request().Context(), f.Trail(), format, w); err != nil {
		// The status line is gone; all we can do is log and cut the stream.
		s.log.ErrorContext(c.Request().Context(), "audit export failed", "err", err)
	}
	return nil
}

type decisionView struct {
	ID       string
	Records  []auditRowView
	Decision *auditRowView
}

func (s *server) auditDecision(c echo.Context) error {
	id := c.Param("id")
	d, err := s.trail.Decision(c.Request().Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "No audit record has decision id "+id+". Check the id, or search the audit trail.")
	}
	if err != nil {
		return err
	}
	v := decisionView{ID: id, Records: rowsOf(d.Entries)}
	for i := range d.Entries {
		if &d.Entries[i] == d.Decision {
			v.Decision = &v.Records[i]
		}
	}
	return s.render(c, http.StatusOK, "decision", "Decision "+id, "audit", v)
}

type verifyView struct {
	Report *trail.Verification
}

func (s *server) verifyPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "verify", "Verify the audit chain", "audit", verifyView{})
}

func (s *server) verifySubmit(c echo.Context) error {
	rep, err := s.trail.Verify(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "verify", "Verify the audit chain", "audit", verifyView{Report: &rep})
}

type activityView struct {
	Rows       []trail.ActivityEntry
	NextCursor string
}

func (s *server) adminActivity(c echo.Context) error {
	page, err := s.trail.AdminActivity(c.Request().Context(), c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "activity", "Admin activity", "activity", activityView{Rows: page.Entries, NextCursor: page.NextCursor})
}
