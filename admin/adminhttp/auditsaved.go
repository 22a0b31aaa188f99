package adminhttp

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
)

func (s *server) saved() (*trail.Saved, error) { return trail.NewSaved(s.cfg.Store) }

// savedSearches lists the person's saved searches into v.
func (s *server) savedSearches(c echo.Context, v *auditView) error {
	sv, err := s.saved()
	if err != nil {
		return err
	}
	list, err := sv.List(c.Request().Context(), sessionOf(c).Actor())
	if err != nil {
		return err
	}
	for _, x := range list {
		v.Saved = append(v.Saved, savedLink{ID: x.ID, Name: x.Name, URL: template.URL("/audit?" + x.Query)})
	}
	return nil
}

// auditSave saves the search in the form's query under a name and shows
// it; a bad name re-renders the search with the error beside the field.
func (s *server) auditSave(c echo.Context) error {
	sv, err := s.saved()
	if err != nil {
		return err
	}
	query, err := url.ParseQuery(c.FormValue("query"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The search to save is not a valid query string.")
	}
	name := c.FormValue("name")
	_, err = sv.Save(c.Request().Context(), sessionOf(c).Actor(), name, query)
	if fe := (admin.FieldErrors{}); errors.As(err, &fe) {
		// Show the search that was being saved, with the error.
		c.Request().URL.RawQuery = query.Encode()
		f, _ := parseAuditFilter(c, s.cfg.Now())
		v := auditView{Filter: f, Kinds: auditKinds, Outcomes: outcomeGroups, CountBound: trail.CountBound,
			SaveErrors: fe, SaveName: name}
		v.Actions, _ = s.cfg.Policies.ActiveActions(c.Request().Context())
		if err := s.savedSearches(c, &v); err != nil {
			return err
		}
		v.links(f, "", "")
		return s.render(c, http.StatusUnprocessableEntity, "audit", "Audit search", "audit", v)
	}
	if err != nil {
		return err
	}
	s.flash(c, "Saved the search as “"+name+"”.")
	return c.Redirect(http.StatusSeeOther, "/audit?"+query.Encode())
}

func (s *server) auditSavedDelete(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "No such saved search.")
	}
	sv, err := s.saved()
	if err != nil {
		return err
	}
	err = sv.Delete(c.Request().Context(), sessionOf(c).Actor(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "You have no saved search with this id.")
	}
	if err != nil {
		return err
	}
	s.flash(c, "Deleted the saved search.")
	return c.Redirect(http.StatusSeeOther, "/audit")
}
