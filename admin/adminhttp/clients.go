package adminhttp

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

type clientForm struct {
	ID, Name, ReturnTo string
	AssertClaims       bool
	// Reason is why the key is being created, for the trail.
	Reason string
	Errors admin.FieldErrors
}

type clientView struct {
	Client storage.Client
	Form   clientForm
	// Key is shown once, on the first page load after creation or
	// rotation (see admin.Reveals).
	Key string
	// KeyErrors are the errors of the rotate, revoke and end-overlap forms.
	KeyErrors admin.FieldErrors
	// KeyAction names the key form KeyErrors belong to.
	KeyAction string
	// Grace are the choices of the rotation's overlap.
	Grace []graceChoice
	// PreviousValid is true while the previous key is still accepted.
	PreviousValid bool
}

type graceChoice struct {
	Value, Label string
	Selected     bool
}

// graceChoices offers the rotation overlaps; the configured default is
// preselected (and offered even when it is not one of the usual ones).
func graceChoices(def time.Duration) []graceChoice {
	usual := []struct {
		d     time.Duration
		label string
	}{{0, "none — the old key stops at once (e.g. it leaked)"}, {time.Hour, "1 hour"}, {24 * time.Hour, "24 hours"},
		{7 * 24 * time.Hour, "7 days"}}
	out := make([]graceChoice, 0, len(usual)+1)
	found := false
	for _, u := range usual {
		out = append(out, graceChoice{Value: u.d.String(), Label: u.label, Selected: u.d == def})
		found = found || u.d == def
	}
	if !found {
		out = append(out, graceChoice{Value: def.String(), Label: def.String() + " (default)", Selected: true})
	}
	return out
}

// revealName is what a client's new key is kept under until shown.
func revealName(id string) string { return "client key " + id }

func (s *server) reveals() *admin.Reveals { return admin.NewReveals(s.cfg.Store, s.cfg.Now) }

// sessionKey is the session cookie of the request, which keys reveals.
func sessionCookieValue(c echo.Context) string {
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return ck.Value
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
		ReturnTo: c.FormValue("return_to"), AssertClaims: c.FormValue("assert_claims") == "on",
		Reason: strings.TrimSpace(c.FormValue("reason"))}
	return admin.ClientSettings{ID: f.ID, Name: f.Name, AssertClaims: f.AssertClaims, ReturnTo: admin.SplitList(f.ReturnTo)}, f
}

// clientCreate creates the client, keeps its key for the client page and
// redirects there (post/redirect/get): a reload shows the page, it does
// not create the client again.
func (s *server) clientCreate(c echo.Context) error {
	set, f := formSettings(c)
	back := url.Values{"id": {f.ID}, "name": {f.Name}, "return_to": {f.ReturnTo}, "reason": {f.Reason}}
	if f.AssertClaims {
		back.Set("assert_claims", "on")
	}
	invalid := func(errs admin.FieldErrors) error {
		f.Errors = errs
		return s.render(c, http.StatusUnprocessableEntity, "client_new", "New API client", "clients", clientView{Form: f})
	}
	if errs := set.Validate(); len(errs) > 0 {
		return invalid(errs)
	}
	if ok, err := s.sensitive(c, admin.ActionClientKey, "/clients/new?"+back.Encode()); !ok || err != nil {
		return err
	}
	ctx := c.Request().Context()
	key, err := s.clients.Create(ctx, sessionOf(c).Actor(), set, f.Reason)
	if fe := (admin.FieldErrors{}); errors.As(err, &fe) {
		return invalid(fe)
	}
	if err != nil {
		return err
	}
	return s.showKeyOnce(c, set.ID, key, "Created client "+set.ID+".")
}

// showKeyOnce keeps key for the next view of the client page and
// redirects there. Should keeping it fail, the key is shown in this
// response instead: it exists nowhere else.
func (s *server) showKeyOnce(c echo.Context, id, key, msg string) error {
	if err := s.reveals().Put(c.Request().Context(), sessionCookieValue(c), revealName(id), key); err != nil {
		s.log.ErrorContext(c.Request().Context(), "keeping a new client key for its page failed; showing it in the POST response", "client", id, "err", err)
		cl, gerr := s.clients.Get(c.Request().Context(), id)
		if gerr != nil {
			return gerr
		}
		v := s.clientViewOf(cl)
		v.Key = key
		return s.render(c, http.StatusOK, "client", "API client "+cl.ID, "clients", v)
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/clients/"+url.PathEscape(id))
}

func formOf(cl storage.Client) clientForm {
	return clientForm{ID: cl.ID, Name: cl.Name, AssertClaims: cl.AssertClaims, ReturnTo: strings.Join(cl.ReturnTo, "\n")}
}

func (s *server) clientViewOf(cl storage.Client) clientView {
	return clientView{Client: cl, Form: formOf(cl), Grace: graceChoices(s.clients.KeyGrace()),
		PreviousValid: cl.PreviousKeyValid(s.cfg.Now())}
}

func (s *server) clientView(c echo.Context) error {
	ctx := c.Request().Context()
	cl, err := s.clients.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v := s.clientViewOf(cl)
	if sessionOf(c).Role.CanWrite() {
		key, err := s.reveals().Take(ctx, sessionCookieValue(c), revealName(cl.ID))
		switch {
		case err == nil:
			v.Key = key
		case !errors.Is(err, admin.ErrNothingToReveal):
			return err
		}
	}
	return s.render(c, http.StatusOK, "client", "API client "+cl.ID, "clients", v)
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
		v := s.clientViewOf(cl)
		f.Errors, v.Form = fe, f
		return s.render(c, http.StatusUnprocessableEntity, "client", "API client "+cl.ID, "clients", v)
	}
	if err != nil {
		return err
	}
	s.flash(c, "Saved client "+cl.ID+".")
	return c.Redirect(http.StatusSeeOther, "/clients/"+url.PathEscape(cl.ID))
}

// keyFormError re-renders the client page with the errors of one key form.
func (s *server) keyFormError(c echo.Context, id, action string, err error) error {
	var fe admin.FieldErrors
	if !errors.As(err, &fe) {
		return err
	}
	cl, gerr := s.clients.Get(c.Request().Context(), id)
	if gerr != nil {
		return gerr
	}
	v := s.clientViewOf(cl)
	v.KeyErrors, v.KeyAction = fe, action
	return s.render(c, http.StatusUnprocessableEntity, "client", "API client "+cl.ID, "clients", v)
}

func (s *server) clientRotate(c echo.Context) error {
	id := c.Param("id")
	reason := strings.TrimSpace(c.FormValue("reason"))
	grace, err := time.ParseDuration(c.FormValue("grace"))
	if err != nil {
		return s.keyFormError(c, id, "rotate", admin.FieldErrors{"grace": "choose how long the old key keeps working"})
	}
	if ok, err := s.sensitive(c, admin.ActionClientKey, "/clients/"+url.PathEscape(id)); !ok || err != nil {
		return err
	}
	key, err := s.clients.Rotate(c.Request().Context(), sessionOf(c).Actor(), id, reason, grace)
	if err != nil {
		return s.keyFormError(c, id, "rotate", err)
	}
	msg := "Issued a new key for " + id + "; the old key stopped working."
	if grace > 0 {
		msg = "Issued a new key for " + id + "; the old key keeps working for " + grace.String() + " unless you end it sooner."
	}
	return s.showKeyOnce(c, id, key, msg)
}

func (s *server) clientEndOverlap(c echo.Context) error {
	id := c.Param("id")
	if err := s.clients.EndOverlap(c.Request().Context(), sessionOf(c).Actor(), id, c.FormValue("reason")); err != nil {
		return s.keyFormError(c, id, "end-overlap", err)
	}
	s.flash(c, "The previous key of "+id+" is refused from now on.")
	return c.Redirect(http.StatusSeeOther, "/clients/"+url.PathEscape(id))
}

func (s *server) clientRevoke(c echo.Context) error {
	id := c.Param("id")
	if err := s.clients.Revoke(c.Request().Context(), sessionOf(c).Actor(), id, c.FormValue("reason")); err != nil {
		return s.keyFormError(c, id, "revoke", err)
	}
	s.flash(c, "Revoked the key of "+id+". Calls with it are refused from now on; rotate to issue a new key.")
	return c.Redirect(http.StatusSeeOther, "/clients/"+url.PathEscape(id))
}
