package webui

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// luminance is the WCAG 2.1 relative luminance of #rrggbb or #rgb.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	h := strings.TrimPrefix(hex, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		t.Fatalf("colour %q is not #rrggbb", hex)
	}
	var c [3]float64
	for i := range c {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		x := float64(v) / 255
		if x <= 0.03928 {
			c[i] = x / 12.92
		} else {
			c[i] = math.Pow((x+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrastRatio(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// TestStylesheetTextContrast computes the contrast of every rule in
// app.css that sets both a background and a text colour (the outcome
// badges, the role badges, the line numbers) and of the outcome colours
// on the page and card backgrounds: WCAG 2.1 AA wants 4.5:1 for text.
func TestStylesheetTextContrast(t *testing.T) {
	css, err := staticFS.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z_]+):(#[0-9a-fA-F]{3,6})`).FindAllStringSubmatch(string(css), -1) {
		vars[m[1]] = m[2]
	}
	resolve := func(v string) string {
		if m := regexp.MustCompile(`^var\(--([a-z_]+)\)$`).FindStringSubmatch(v); m != nil {
			return vars[m[1]]
		}
		return v
	}
	rule := regexp.MustCompile(`([^{}]+)\{([^}]*)\}`)
	decl := func(body, prop string) string {
		m := regexp.MustCompile(`(?:^|[;\s])` + prop + `:\s*([^;]+)`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return resolve(strings.TrimSpace(m[1]))
	}
	checked := 0
	for _, m := range rule.FindAllStringSubmatch(string(css), -1) {
		bg, fg := decl(m[2], "background"), decl(m[2], "color")
		if !strings.HasPrefix(bg, "#") || !strings.HasPrefix(fg, "#") {
			continue
		}
		checked++
		if r := contrastRatio(t, fg, bg); r < 4.5 {
			t.Errorf("%s: text %s on %s has contrast %.2f, want ≥ 4.5", strings.TrimSpace(m[1]), fg, bg, r)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d rules with both colours found; the parser no longer reads app.css", checked)
	}
	for _, o := range []string{"allow", "step_up", "ciba", "deny", "muted", "accent"} {
		for _, bg := range []string{"#ffffff", vars["bg"]} {
			if r := contrastRatio(t, vars[o], bg); r < 4.5 {
				t.Errorf("--%s %s on %s has contrast %.2f, want ≥ 4.5", o, vars[o], bg, r)
			}
		}
	}
}
