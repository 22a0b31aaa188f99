package adminhttp

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/storage"
)

// auditRowView is one search result with the facts auditors look for: the
// sign-in facts of a decision, or the detail of a flow record.
type auditRowView struct {
	Rec        storage.AuditRecord
	Facts      authnFacts
	FlowDetail *storage.FlowDetail
	Flow       []flowFact
}

type auditView struct {
	Filter  auditFilter
	Rows    []auditRowView
	Scanned int
	Actions []string
	// Kinds and Outcomes are the choices of the form's selects.
	Kinds    []string
	Outcomes []outcomeGroup
	// ExportCSV, ExportNDJSON and Older link to the export of the current
	// filter and to the next page. They are built here, already encoded:
	// html/template would escape a query string spliced into an href,
	// dropping the filter from the link.
	ExportCSV, ExportNDJSON, Older template.URL
}

// links fills the export and paging links of v for filter f.
func (v *auditView) links(f auditFilter, next string) {
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
	if next != "" {
		v.Older = link("/audit", "cursor", next)
	}
}

// maxMFAScan bounds how many store pages one MFA-filtered page may scan.
const maxMFAScan = 20

// searchPage returns one page of records matching f, applying the MFA
// filter on top of the store's filters.
func (s *server) searchPage(c echo.Context, f auditFilter) ([]auditRowView, string, int, error) {
	q := f.Query
	var rows []auditRowView
	scanned := 0
	for range maxMFAScan {
		page, err := s.cfg.Store.SearchAudit(c.Request().Context(), q)
		if errors.Is(err, storage.ErrInvalid) {
			return nil, "", 0, echo.NewHTTPError(http.StatusBadRequest, "The paging link is not valid; start the search again.")
		}
		if err != nil {
			return nil, "", 0, err
		}
		scanned += len(page.Records)
		for _, r := range page.Records {
			if f.matchesMFA(r) {
				rows = append(rows, auditRow(r))
			}
		}
		if f.MFA == "" || len(rows) >= q.Limit || page.NextCursor == "" {
			return rows, page.NextCursor, scanned, nil
		}
		q.Cursor = page.NextCursor
	}
	return rows, q.Cursor, scanned, nil
}

func (s *server) auditSearch(c echo.Context) error {
	f, ferr := parseAuditFilter(c, s.cfg.Now())
	v := auditView{Filter: f, Actions: s.knownActions(c), Kinds: auditKinds, Outcomes: outcomeGroups}
	status, next := http.StatusOK, ""
	if ferr != nil {
		status = http.StatusBadRequest
	} else {
		var err error
		if v.Rows, next, v.Scanned, err = s.searchPage(c, f); err != nil {
			return err
		}
	}
	v.links(f, next)
	return s.render(c, status, "audit", "Audit search", "audit", v)
}

// knownActions feeds the action field's suggestions from the active policy.
func (s *server) knownActions(c echo.Context) []string {
	rev, err := s.cfg.Store.ActiveRevision(c.Request().Context())
	if err != nil {
		return nil
	}
	_, files, err := s.cfg.Policies.Files(c.Request().Context(), rev.ID)
	if err != nil {
		return nil
	}
	rules, _, _ := readRules(files)
	return rules
}

func (s *server) apiAuditSearch(c echo.Context) error {
	f, err := parseAuditFilter(c, s.cfg.Now())
	if err != nil {
		return err
	}
	rows, next, _, err := s.searchPage(c, f)
	if err != nil {
		return err
	}
	recs := make([]storage.AuditRecord, len(rows))
	for i, r := range rows {
		recs[i] = r.Rec
	}
	return c.JSON(http.StatusOK, map[string]any{"records": recs, "next_cursor": next})
}

// auditKinds are the record kinds the search form offers.
var auditKinds = []string{storage.KindDecision, storage.KindStepUp, storage.KindCIBA, storage.KindSession, storage.KindAdmin, storage.KindCheckpoint}

// csvHeader is the readable export's: a decision's sign-in facts (mfa,
// amr), then the flow columns (amr is then the proof's).
var csvHeader = append([]string{"time", "kind", "decision_id", "client_id", "subject", "issuer", "action", "resource_type",
	"resource_id", "outcome", "reasons", "policy_revision", "mfa", "amr", "latency_micros", "actor", "request_id", "chain_id", "seq", "hash"},
	flowCSVHeader...)

// auditExport streams every record matching the filter, newest first, as
// CSV or NDJSON; memory stays bounded however many records match.
func (s *server) auditExport(c echo.Context) error {
	f, err := parseAuditFilter(c, s.cfg.Now())
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format != "csv" && format != "ndjson" {
		return echo.NewHTTPError(http.StatusBadRequest, "format must be csv or ndjson")
	}
	q := f.Query
	q.Cursor = ""
	w := c.Response()
	name := "stepgate-audit-" + s.cfg.Now().UTC().Format("20060102-150405") + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if format == "csv" {
		w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		w.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	}
	w.WriteHeader(http.StatusOK)
	cw, enc := csv.NewWriter(w), json.NewEncoder(w)
	if format == "csv" {
		_ = cw.Write(csvHeader)
	}
	n := 0
	err = s.cfg.Store.ExportAudit(c.Request().Context(), q, func(r storage.AuditRecord) error {
		if !f.matchesMFA(r) {
			return nil
		}
		n++
		if format == "ndjson" {
			return enc.Encode(r)
		}
		row := auditRow(r)
		mfa, amr := "", strings.Join(row.Facts.Methods, " ")
		if row.Facts.MFA != nil {
			mfa = strconv.FormatBool(*row.Facts.MFA)
		}
		if row.FlowDetail != nil {
			amr = strings.Join(row.FlowDetail.AMR, " ")
		}
		if err := cw.Write(append([]string{r.Time.UTC().Format("2006-01-02T15:04:05.000000Z"), r.Kind, r.DecisionID, r.ClientID,
			csvSafe(r.Subject), r.Issuer, r.Action, r.ResourceType, csvSafe(r.ResourceID), r.Outcome, csvSafe(strings.Join(r.Reasons, "; ")),
			strconv.FormatInt(r.PolicyRevision, 10), mfa, csvSafe(amr), strconv.FormatInt(r.LatencyMicros, 10),
			csvSafe(r.Actor), r.RequestID, r.ChainID, strconv.FormatInt(r.Seq, 10), r.Hash}, flowCSV(r, row.FlowDetail)...)); err != nil {
			return err
		}
		if n%500 == 0 {
			cw.Flush()
			w.Flush()
		}
		return nil
	})
	cw.Flush()
	if err != nil {
		// The status line is gone; all we can do is log and cut the stream.
		s.log.ErrorContext(c.Request().Context(), "audit export failed", "err", err, "exported", n)
	}
	return nil
}

// csvSafe defuses spreadsheet formulas in values that users control.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

type decisionView struct {
	ID       string
	Records  []auditRowView
	Decision *auditRowView
}

func (s *server) auditDecision(c echo.Context) error {
	id := c.Param("id")
	page, err := s.cfg.Store.SearchAudit(c.Request().Context(), storage.AuditQuery{DecisionID: id, Limit: 100})
	if err != nil {
		return err
	}
	if len(page.Records) == 0 {
		return echo.NewHTTPError(http.StatusNotFound, "No audit record has decision id "+id+". Check the id, or search the audit trail.")
	}
	v := decisionView{ID: id}
	for _, r := range page.Records {
		row := auditRow(r)
		v.Records = append(v.Records, row)
		if r.Kind == storage.KindDecision && v.Decision == nil {
			v.Decision = &row
		}
	}
	if v.Decision == nil {
		v.Decision = &v.Records[0]
	}
	return s.render(c, http.StatusOK, "decision", "Decision "+id, "audit", v)
}

type verifyView struct {
	Report *storage.VerifyReport
}

func (s *server) verifyPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "verify", "Verify the audit chain", "audit", verifyView{})
}

func (s *server) verifySubmit(c echo.Context) error {
	rep, err := s.cfg.Store.VerifyAudit(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "verify", "Verify the audit chain", "audit", verifyView{Report: &rep})
}

type activityRow struct {
	Rec    storage.AuditRecord
	Reason string
	Target string
}

type activityView struct {
	Rows       []activityRow
	NextCursor string
}

func (s *server) adminActivity(c echo.Context) error {
	page, err := s.cfg.Store.SearchAudit(c.Request().Context(), storage.AuditQuery{Kind: storage.KindAdmin, Limit: 50, Cursor: c.QueryParam("cursor")})
	if errors.Is(err, storage.ErrInvalid) {
		return echo.NewHTTPError(http.StatusBadRequest, "The paging link is not valid.")
	}
	if err != nil {
		return err
	}
	v := activityView{NextCursor: page.NextCursor}
	for _, r := range page.Records {
		var d map[string]any
		_ = json.Unmarshal(r.Detail, &d)
		row := activityRow{Rec: r}
		row.Reason, _ = d["reason"].(string)
		if row.Reason == "" {
			row.Reason, _ = d["message"].(string)
		}
		if rev, ok := d["revision"].(float64); ok {
			row.Target = "revision " + strconv.FormatInt(int64(rev), 10)
		} else if cl, ok := d["client"].(string); ok {
			row.Target = "client " + cl
		}
		v.Rows = append(v.Rows, row)
	}
	return s.render(c, http.StatusOK, "activity", "Admin activity", "activity", v)
}
