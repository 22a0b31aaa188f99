package main

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

// assets holds the page templates and the stylesheet.
//
//go:embed templates static
var assets embed.FS

// pages are the parsed templates, each page with the layout.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"money": func(cents int64) string { return fmt.Sprintf("€%d.%02d", cents/100, cents%100) },
	"clock": func(t time.Time) string { return t.Local().Format("15:04:05") },
	"unix": func(v any) string {
		if f, ok := v.(float64); ok {
			return time.Unix(int64(f), 0).Local().Format("2006-01-02 15:04:05")
		}
		return fmt.Sprint(v)
	},
	"join": func(v any) string {
		if l, ok := v.([]any); ok {
			parts := make([]string, len(l))
			for i, x := range l {
				parts[i] = fmt.Sprint(x)
			}
			return strings.Join(parts, ", ")
		}
		return fmt.Sprint(v)
	},
}

func parsePages() (*pages, error) {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		p.byName[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return p, nil
}

// view is what every page gets.
type view struct {
	Title string
	// Nav marks the current section.
	Nav string
	// User is the signed-in user's email or subject ("" when signed out).
	User  string
	Phone bool
	// Refresh, when positive, reloads the page after that many seconds.
	Refresh int
	Data    any
}

// render writes page with status; a template error becomes a plain 500.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	if s := a.sessionOf(r); s != nil {
		v.User = s.email
		if v.User == "" {
			v.User = s.sub
		}
	}
	v.Phone = a.cfg.PhoneSimulator
	var buf bytes.Buffer
	t, ok := a.pages.byName[page]
	if !ok {
		a.log.ErrorContext(r.Context(), "no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Execute(&buf, v); err != nil {
		a.log.ErrorContext(r.Context(), "render page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail logs err and shows message on the error page.
func (a *App) fail(w http.ResponseWriter, r *http.Request, status int, message string, err error) {
	if err != nil {
		a.log.WarnContext(r.Context(), message, "path", r.URL.Path, "err", err)
	}
	a.render(w, r, status, "error", view{Title: "Something went wrong", Data: message})
}

// stepUpError is the guard's layout hook: the library's error page for a
// failed step-up callback (what happened, "Try again" to the page the user
// wanted, the decision id) inside the app's own layout.
func (a *App) stepUpError(w http.ResponseWriter, r *http.Request, p stepgateclient.ErrorPage) {
	a.render(w, r, p.Status, "stepup-error", view{Title: p.Title, Data: p.Body})
}

func staticFiles() http.Handler {
	return http.FileServerFS(assets)
}
