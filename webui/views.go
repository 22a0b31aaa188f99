package webui

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Page is what every template receives.
type Page struct {
	Title string
	// Nav names the active navigation entry.
	Nav string
	// User, Role and CanWrite describe the signed-in person ("" when anonymous).
	User     string
	Role     string
	CanWrite bool
	// CSRF is the token each state-changing form carries.
	CSRF  string
	Flash string
	// SSO is true when sign-in goes through the IdP.
	SSO  bool
	Data any
}

// Views holds one parsed template set per page.
type Views struct{ pages map[string]*template.Template }

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
	"timep": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"pct":  func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"join": strings.Join,
	"json": func(b []byte) string {
		var v any
		if len(b) == 0 || json.Unmarshal(b, &v) != nil {
			return string(b)
		}
		out, _ := json.MarshalIndent(v, "", "  ")
		return string(out)
	},
	"add": func(a, b int) int { return a + b },
	// lines splits a file for a numbered listing; a final newline does
	// not start another line.
	"lines": func(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") },
	"list":  func(xs ...string) []string { return xs },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

// Load parses every page with the layout and the shared partials
// (templates/_*.html).
func Load() (*Views, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("webui: list templates: %w", err)
	}
	v := &Views{pages: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("webui: parse %s: %w", n, err)
		}
		v.pages[base] = t
	}
	return v, nil
}

// Render writes page inside the layout.
func (v *Views) Render(w io.Writer, page string, p Page) error {
	t, ok := v.pages[page]
	if !ok {
		return fmt.Errorf("webui: no page %q", page)
	}
	return t.ExecuteTemplate(w, "layout.html", p)
}

// Static serves the embedded assets under /static/.
func Static() http.Handler {
	return http.StripPrefix("/static/", http.FileServerFS(mustSub(staticFS, "static")))
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		// dir is a constant that go:embed already resolved.
		panic(fmt.Sprintf("webui: %v", err))
	}
	return sub
}
