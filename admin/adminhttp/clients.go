package adminhttp

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

type clientForm struct {
	ID, Name, ReturnTo string
	AssertClaims       bool
	Errors             admin.FieldErrors
}

type clientView struct {
	Client storage.Client
	Form   clientForm
	// Key is shown once, right after creation or rotation.
	Key string
}

func (s *server) clientList(c echo.Context) error {
	list, err := s.clients.List(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "clients", "API clients", "clients", list)
}

// clientNew shows the form, filled from the query string when a sign-in
// confirmation interrupted a creation (see clientCreate).
func (s *server) clientNew(c echo.Context) error {
	_, f := formSettings(c)
	return s.render(c, http.StatusOK, "client_new", "New API client", "clients", clientView{Form: f})
}

func formSettings(c echo.Context) (admin.ClientSettings, clientForm) {
	f := clientForm{ID: strings.TrimSpace(c.FormValue("id")), Name: strings.TrimSpace(c.FormValue("name")),
		ReturnTo: c.FormValue("return_to"), AssertClaims: c.FormValue("assert_claims") == "on"}
	return admin.ClientSettings{ID: f.ID, Name: f.Name, AssertClaims: f.AssertClaims, ReturnTo: admin.SplitList(f.ReturnTo)}, f
}

func (s *server) clientCreate(c echo.Context) error {
	set, f := formSettings(c)
	if errs := set.Validate(); len(errs) > 0 {
		f.Errors = errs
		return s.render(c, http.StatusUnprocessableEntity, "client_new", "New API client", "clients", clientView{Form: f})
	}
	back := url.Values{"id": {f.ID}, "name": {f.Name}, "return_to": {f.ReturnTo}}
	if f.AssertClaims {
		back.Set("assert_claims", "on")
	}
	if ok, err := s.sensitive(c, admin.ActionClientKey, "/clients/new?"+back.Encode()); !ok || err != nil {
		return err
	}
	key, err := s.clients.Create(c.Request().Context(), sessionOf(c).Actor(), set)
	var fe admin.FieldErrors
	if errors.As(err, &fe) {
		f.Errors = fe
		return s.render(c, http.StatusUnprocessableEntity, "client_new", "New API client", "clients", clientView{Form: f})
	}
	if err != nil {
		return err
	}
	cl, err := s.clients.Get(c.Request().Context(), set.ID)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusCreated, "client", "API client "+cl.ID, "clients", clientView{Client: cl, Form: formOf(cl), Key: key})
}

func formOf(cl storage.Client) clientForm {
	return clientForm{ID: cl.ID, Name: cl.Name, AssertClaims: cl.AssertClaims, ReturnTo: strings.Join(cl.ReturnTo, "\n")}
}

func (s *server) clientView(c echo.Context) error {
	cl, err := s.clients.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "client", "API client "+cl.ID, "clients", clientView{Client: cl, Form: formOf(cl)})
}

func (s *server) clientUpdate(c echo.Context) error {
	cl, err := s.clients.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	set, f := formSettings(c)
	set.ID, f.ID = cl.ID, cl.ID
	err = s.clients.Update(c.Request().Context(), sessionOf(c).Actor(), set)
	var fe admin.FieldErrors
	if errors.As(err, &fe) {
		f.Errors = fe
		return s.render(c, http.StatusUnprocessableEntity, "client", "API client "+cl.ID, "clients", clientView{Client: cl, Form: f})
	}
	if err != nil {
		return err
	}
	s.flash(c, "Saved client "+cl.ID+".")
	return c.Redirect(http.StatusSeeOther, "/clients/"+cl.ID)
}

func (s *server) clientRotate(c echo.Context) error {
	id := c.Param("id")
	if ok, err := s.sensitive(c, admin.ActionClientKey, "/clients/"+id); !ok || err != nil {
		return err
	}
	key, err := s.clients.Rotate(c.Request().Context(), sessionOf(c).Actor(), id)
	if err != nil {
		return err
	}
	cl, err := s.clients.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "client", "API client "+cl.ID, "clients", clientView{Client: cl, Form: formOf(cl), Key: key})
}

func (s *server) clientRevoke(c echo.Context) error {
	id := c.Param("id")
	if err := s.clients.Revoke(c.Request().Context(), sessionOf(c).Actor(), id); err != nil {
		return err
	}
	s.flash(c, "Revoked the key of "+id+". Calls with it are refused from now on; rotate to issue a new key.")
	return c.Redirect(http.StatusSeeOther, "/clients/"+id)
}
