// Package webui holds the admin UI's HTML templates and static assets,
// embedded with go:embed so the binary serves them without a Node build
// step or files on disk.
//
// admin/adminhttp renders pages through Views: every page template defines
// "content" and is executed inside layout.html, which draws the navigation
// and receives a Page (who is signed in, the CSRF token for forms, a flash
// message and the page's own data). Static serves /static/ (CSS, one small
// script and the policy editor); nothing is inline, so the
// Content-Security-Policy needs neither 'unsafe-inline' nor 'unsafe-eval'.
// Pages work without JavaScript; the scripts only add conveniences (copy
// buttons, jumping to an error's line, the code editor).
//
// static/editor.js is built, not written: webui/editor holds its sources
// (CodeMirror 6 and the codemirror-rego mode, pinned by package-lock.json)
// and build.sh bundles them with esbuild. It enhances every
// <textarea data-editor="rego|json|text">, which stays the form field, and
// adopts CodeMirror's styles as a constructed stylesheet because the CSP
// forbids the <style> element CodeMirror would otherwise add.
package webui
