// Package webui holds the admin UI's HTML templates and static assets,
// embedded with go:embed so the binary serves them without a Node build
// step or files on disk.
//
// admin/adminhttp renders pages through Views: every page template defines
// "content" and is executed inside layout.html, which draws the navigation
// and receives a Page (who is signed in, the CSRF token for forms, a flash
// message and the page's own data). Static serves /static/ (CSS and one small
// script); nothing is inline, so the Content-Security-Policy needs neither
// 'unsafe-inline' nor 'unsafe-eval'. Pages work without JavaScript; the
// script only adds conveniences (copy buttons, jumping to an error's line).
package webui
