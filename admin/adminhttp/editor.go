package adminhttp

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
)

// editFile is one editable module with its compile problems.
type editFile struct {
	Index int
	Name  string
	// Lang selects the editor's highlighting: rego, json or text.
	Lang    string
	Content string
	Issues  []issueView
}

// issueView is a compile error with the source lines around it.
type issueView struct {
	Line, Column int
	Message      string
	Excerpt      []srcLine
}

type srcLine struct {
	N    int
	Text string
	Bad  bool
}

// ruleRow is one row of the requirements table as typed.
type ruleRow struct {
	Index int
	admin.ActionRow
	Errors admin.FieldErrors
}

type editView struct {
	Base     storage.PolicyRevision
	Files    []editFile
	Rows     []ruleRow
	Table    bool
	TableErr string
	Message  string
	Errors   []string
	Other    []policy.CompileIssue
	// TryInput is the input "Decide" tries the unsaved edit with.
	TryInput string
	// Try is the result of trying the unsaved edit.
	Try *tryView
	// IssueCount and FirstIssue summarise the compile problems at the top
	// of the page, which otherwise start below the requirements table.
	IssueCount int
	FirstIssue *editFile
}

// blankRows are offered under the table for new actions.
const blankRows = 2

func (s *server) editPage(c echo.Context) error {
	rev, files, err := s.loadRevision(c)
	if err != nil {
		return err
	}
	v := editView{Base: rev, Message: "Edited from revision " + strconv.FormatInt(rev.ID, 10)}
	rules, has, err := admin.ReadActions(files)
	v.Table = has && err == nil
	if err != nil {
		v.TableErr = err.Error()
	}
	for _, r := range rules {
		v.Rows = append(v.Rows, ruleRow{ActionRow: rowOf(r)})
	}
	for _, n := range files.Names() {
		if v.Table && n == admin.ActionsDataFile {
			continue
		}
		v.Files = append(v.Files, editFile{Name: n, Content: string(files[n])})
	}
	return s.renderEdit(c, http.StatusOK, &v)
}

func (s *server) renderEdit(c echo.Context, status int, v *editView) error {
	v.IssueCount, v.FirstIssue = 0, nil
	for i := range v.Files {
		f := &v.Files[i]
		f.Index = i
		f.Lang = langOf(f.Name)
		v.IssueCount += len(f.Issues)
		if len(f.Issues) > 0 && v.FirstIssue == nil {
			v.FirstIssue = f
		}
	}
	if v.TryInput == "" {
		v.TryInput = s.exampleInput()
	}
	for range blankRows {
		v.Rows = append(v.Rows, ruleRow{})
	}
	for i := range v.Rows {
		v.Rows[i].Index = i
	}
	return s.render(c, status, "edit", "Edit revision "+strconv.FormatInt(v.Base.ID, 10), "policies", v)
}

func langOf(name string) string {
	switch path.Ext(name) {
	case ".rego":
		return "rego"
	case ".json":
		return "json"
	}
	return "text"
}

func rowOf(r admin.ActionRule) admin.ActionRow {
	row := admin.ActionRow{Name: r.Name, Description: r.Description, MFA: r.MFA, FreshLogin: r.FreshLogin, AMRAny: strings.Join(r.AMRAny, ", "),
		ACRValues: strings.Join(r.ACRValues, ", "), CIBAChannels: strings.Join(r.CIBAChannels, ", "), CIBABinding: r.CIBABindingHint}
	if r.MaxAge != nil {
		row.MaxAge = strconv.FormatInt(*r.MaxAge, 10)
	}
	if r.CIBAAmountAtLeast != nil {
		row.CIBAAmount = strconv.FormatFloat(*r.CIBAAmountAtLeast, 'f', -1, 64)
	}
	return row
}

// editSubmit stores the edited bundle as a new draft. A bundle that does not
// compile comes back with every problem at its line and the input kept.
func (s *server) editSubmit(c echo.Context) error {
	next, v, err := s.editedBundle(c)
	if err != nil || len(v.Errors) > 0 {
		return s.editFailed(c, v, err)
	}
	if v.Message == "" {
		v.Message = "Edited from revision " + strconv.FormatInt(v.Base.ID, 10)
	}
	newRev, val, err := s.cfg.Policies.Push(c.Request().Context(), sessionOf(c).Actor(), next, v.Message, false)
	if err != nil && !errors.Is(err, admin.ErrUnrecorded) {
		if val != nil && val.Compile != nil {
			attachIssues(v, val.Compile)
			return s.renderEdit(c, http.StatusUnprocessableEntity, v)
		}
		if errors.Is(err, admin.ErrInvalid) {
			v.Errors = append(v.Errors, err.Error())
			return s.renderEdit(c, http.StatusUnprocessableEntity, v)
		}
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Saved draft revision %d. Rego tests: %d passed, %d failed.", newRev.ID, val.Passed, val.Failed)
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/policies/"+strconv.FormatInt(newRev.ID, 10))
}

// editFailed renders the form again when editedBundle found problems in
// it (v.Errors), or returns err.
func (s *server) editFailed(c echo.Context, v *editView, err error) error {
	if err != nil {
		return err
	}
	return s.renderEdit(c, http.StatusUnprocessableEntity, v)
}

// editedBundle reads the edit form: the revision it started from, the
// files as typed and the requirements table written into its data file.
// Problems the user can fix are in v.Errors.
func (s *server) editedBundle(c echo.Context) (policy.Files, *editView, error) {
	rev, files, err := s.loadRevision(c)
	if err != nil {
		return nil, nil, err
	}
	form, err := c.FormParams()
	if err != nil {
		return nil, nil, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	v := &editView{Base: rev, Message: strings.TrimSpace(form.Get("message")), Table: form.Get("table") == "1",
		TryInput: form.Get("try_input")}
	next := make(policy.Files, len(files))
	for n, b := range files {
		next[n] = b
	}
	for i := 0; ; i++ {
		name := form.Get("fn_" + strconv.Itoa(i))
		if name == "" {
			break
		}
		if _, ok := files[name]; !ok {
			return nil, nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%q is not a file of revision %d.", name, rev.ID))
		}
		content := strings.ReplaceAll(form.Get("f_"+strconv.Itoa(i)), "\r\n", "\n")
		next[name] = []byte(content)
		v.Files = append(v.Files, editFile{Name: name, Content: content})
	}
	if v.Table {
		rules, ok := parseRows(form, v)
		if !ok {
			v.Errors = append(v.Errors, "Some rows of the requirements table need fixing; see the marked fields.")
			return nil, v, nil
		}
		if next, err = admin.WriteActions(next, rules); err != nil {
			v.Errors = append(v.Errors, err.Error())
			return nil, v, nil
		}
	}
	return next, v, nil
}

func parseRows(form map[string][]string, v *editView) ([]admin.ActionRule, bool) {
	get := func(k string, i int) string {
		if vals := form[k]; i < len(vals) {
			return vals[i]
		}
		return ""
	}
	mfa, fresh := form["a_mfa"], form["a_fresh"]
	ok := true
	var rules []admin.ActionRule
	seen := map[string]bool{}
	for i := range form["a_name"] {
		row := admin.ActionRow{Name: get("a_name", i), Description: get("a_desc", i), AMRAny: get("a_amr", i),
			ACRValues: get("a_acr", i), MaxAge: get("a_max_age", i), MFA: slices.Contains(mfa, strconv.Itoa(i)),
			FreshLogin:   slices.Contains(fresh, strconv.Itoa(i)),
			CIBAChannels: get("a_ciba_channels", i), CIBAAmount: get("a_ciba_amount", i), CIBABinding: get("a_ciba_binding", i)}
		if strings.TrimSpace(row.Name) == "" {
			continue
		}
		r, errs := admin.ParseActionRow(row)
		if seen[r.Name] {
			errs["name"] = "this action is listed twice"
		}
		seen[r.Name] = true
		if len(errs) > 0 {
			ok = false
		}
		v.Rows = append(v.Rows, ruleRow{ActionRow: row, Errors: errs})
		rules = append(rules, r)
	}
	return rules, ok
}

// attachIssues puts each compile issue beside its file, with an excerpt.
func attachIssues(v *editView, ce *policy.CompileError) {
	if len(ce.Issues) == 0 {
		v.Errors = append(v.Errors, ce.Error())
		return
	}
	for _, is := range ce.Issues {
		placed := false
		for i := range v.Files {
			f := &v.Files[i]
			if f.Name != is.File {
				continue
			}
			f.Issues = append(f.Issues, issueView{Line: is.Line, Column: is.Column, Message: is.Message, Excerpt: excerpt(f.Content, is.Line)})
			placed = true
		}
		if !placed {
			v.Other = append(v.Other, is)
		}
	}
}

func excerpt(content string, line int) []srcLine {
	lines := strings.Split(content, "\n")
	var out []srcLine
	for n := max(1, line-2); n <= min(len(lines), line+2); n++ {
		out = append(out, srcLine{N: n, Text: lines[n-1], Bad: n == line})
	}
	return out
}
