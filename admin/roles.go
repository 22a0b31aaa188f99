package admin

import (
	"errors"
	"slices"
)

// Role is what a signed-in person may do in the admin UI.
type Role string

// The two roles. Admins change policies and clients; auditors only read.
const (
	RoleAdmin   Role = "admin"
	RoleAuditor Role = "auditor"
)

// ErrForbidden means the signed-in person's role does not allow the action.
var ErrForbidden = errors.New("forbidden")

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleAuditor }

// CanWrite reports whether r may change anything. Every state-changing
// handler checks it on the server; hiding buttons is only a courtesy.
func (r Role) CanWrite() bool { return r == RoleAdmin }

// RoleMapping maps the values of an IdP claim (e.g. "groups") to roles.
type RoleMapping struct {
	// Claim names the ID token claim holding group or role names; a string
	// or an array of strings.
	Claim string
	// AdminValues and AuditorValues list the claim values granting each role.
	// Admin wins when a person holds both.
	AdminValues   []string
	AuditorValues []string
}

// RoleFor returns the role granted by claims, or false when none applies.
func (m RoleMapping) RoleFor(claims map[string]any) (Role, bool) {
	var values []string
	switch v := claims[m.Claim].(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	case []string:
		values = v
	}
	has := func(allowed []string) bool {
		return slices.ContainsFunc(values, func(v string) bool { return slices.Contains(allowed, v) })
	}
	switch {
	case has(m.AdminValues):
		return RoleAdmin, true
	case has(m.AuditorValues):
		return RoleAuditor, true
	}
	return "", false
}
