package adminhttp

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// usersView is the People page: local accounts and, with single sign-on,
// how the IdP's claims grant roles.
type usersView struct {
	Users []storage.AdminUser
	// Self is the signed-in local account's name ("" for SSO).
	Self string
	SSO  *SSOConfig
	// Form keeps what was typed into the add form after a refusal
	// (never the password); Error says why, Target names the account a
	// refused row action was for.
	Name, Role, Error, Target string
}

func (s *server) userList(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, usersView{})
}

func (s *server) renderUsers(c echo.Context, status int, v usersView) error {
	list, err := s.users.List(c.Request().Context())
	if err != nil {
		return err
	}
	v.Users, v.SSO = list, s.cfg.SSO
	if sess := sessionOf(c); sess.Method == "password" {
		v.Self = sess.User
	}
	return s.render(c, status, "users", "People", "users", v)
}

// userError re-renders the page with a refusal the person can fix (bad
// input, the last admin); anything else goes to the error handler.
func (s *server) userError(c echo.Context, v usersView, err error) error {
	if errors.Is(err, admin.ErrUnrecorded) || !errors.Is(err, admin.ErrInvalid) {
		return err
	}
	v.Error = strings.TrimPrefix(err.Error(), admin.ErrInvalid.Error()+": ")
	return s.renderUsers(c, http.StatusUnprocessableEntity, v)
}

func (s *server) userAdd(c echo.Context) error {
	v := usersView{Name: strings.TrimSpace(c.FormValue("name")), Role: c.FormValue("role")}
	if pw := c.FormValue("password"); pw != c.FormValue("password2") {
		v.Error = "The two passwords differ; type the same password twice."
		return s.renderUsers(c, http.StatusUnprocessableEntity, v)
	}
	u, err := s.users.Add(c.Request().Context(), sessionOf(c).Actor(), v.Name, admin.Role(v.Role), c.FormValue("password"))
	if err != nil {
		return s.userError(c, v, err)
	}
	s.flash(c, "Account "+u.Name+" ("+u.Role+") added. Give them the password through a channel only they can read.")
	return c.Redirect(http.StatusSeeOther, "/users")
}

func (s *server) userDisable(c echo.Context) error {
	name := c.Param("name")
	_, err := s.users.Disable(c.Request().Context(), sessionOf(c).Actor(), name, strings.TrimSpace(c.FormValue("reason")))
	if err != nil {
		return s.userError(c, usersView{Target: name}, err)
	}
	s.flash(c, "Account "+name+" is disabled; its sessions have ended.")
	return c.Redirect(http.StatusSeeOther, "/users")
}

func (s *server) userEnable(c echo.Context) error {
	name := c.Param("name")
	_, err := s.users.Enable(c.Request().Context(), sessionOf(c).Actor(), name, strings.TrimSpace(c.FormValue("reason")))
	if err != nil {
		return s.userError(c, usersView{Target: name}, err)
	}
	s.flash(c, "Account "+name+" is enabled again.")
	return c.Redirect(http.StatusSeeOther, "/users")
}

func (s *server) userPassword(c echo.Context) error {
	name := c.Param("name")
	if c.FormValue("password") != c.FormValue("password2") {
		return s.renderUsers(c, http.StatusUnprocessableEntity, usersView{Target: name,
			Error: "The two passwords differ; type the same password twice."})
	}
	_, err := s.users.SetPassword(c.Request().Context(), sessionOf(c).Actor(), name, c.FormValue("password"))
	if err != nil {
		return s.userError(c, usersView{Target: name}, err)
	}
	msg := "Account " + name + " has a new password; its sessions have ended."
	if sess := sessionOf(c); sess.Method == "password" && sess.User == name {
		msg = "Your password is changed; sign in with the new one."
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/users")
}
