// Package users manages the admin UI's local accounts: people who sign in
// with a name and password rather than through single sign-on.
//
// An admin adds an account with a role (admin or auditor), gives it a new
// password, disables or re-enables it, in the UI (admin/adminhttp) or with
// `stepgate admin user add|disable|enable|passwd|list`. Every change
// commits in one store transaction with its record in the admin audit
// trail; a change refused (a bad name, a short password, disabling the
// last enabled admin) is recorded as refused and changes nothing.
//
// Passwords are kept as bcrypt hashes. Each change bumps the account's
// version; Service.Current lets admin.Sessions end every session opened
// before it, so disabling an account or replacing its password signs it
// out everywhere at once. The bootstrap account "admin" (admin.BootstrapAdmin)
// is an account like the others once created, and can be disabled when
// named admins exist.
package users
