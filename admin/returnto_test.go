package admin

import (
	"net/url"
	"strings"
	"testing"
)

var hostileReturnTo = []string{
	"",
	"https://evil.example/",
	"http:/evil.example",
	"javascript:alert(1)",
	"evil.example",
	"//evil.example/",
	"///evil.example/",
	"/\\evil.example",
	"\\/evil.example",
	"/\\/evil.example",
	"/\t/evil.example/",
	"/%09/evil.example/",
	"/%9/evil.example/",
	"/\n/evil.example",
	"/%0a/evil.example",
	"/%0D%0A/evil.example",
	"/\r\nLocation: https://evil.example",
	"/%00/evil.example",
	"/%7f/evil.example",
	"/%2F%2Fevil.example",
	"/%2f/evil.example",
	"/%2F",
	"/%5Cevil.example",
	"/%5c%5cevil.example",
	"/ /evil.example",
	"/\u3000/evil.example",
	"/é",
	"/x?next=%0a",
	"/%",
	"/%zz",
	" /policies",
	"/policies\x00",
	"/" + strings.Repeat("a", maxReturnTo),
}

func TestSafeReturnToRefusesHostileForms(t *testing.T) {
	for _, raw := range hostileReturnTo {
		t.Run(url.PathEscape(raw), func(t *testing.T) {
			if got := SafeReturnTo(raw); got != "/" {
				t.Fatalf("SafeReturnTo(%q) = %q, want /", raw, got)
			}
		})
	}
}

func TestSafeReturnToKeepsLocalPaths(t *testing.T) {
	for _, raw := range []string{
		"/",
		"/policies",
		"/policies/3/activate",
		"/audit?issuer=https%3A%2F%2Fidp.example%2F&outcome=deny",
		"/audit?subject=a/b#results",
		"/clients/billing-svc?tab=keys",
		"/a%20b",
		"/.//x",
	} {
		if got := SafeReturnTo(raw); got != raw {
			t.Errorf("SafeReturnTo(%q) = %q, want it kept", raw, got)
		}
	}
}

// FuzzSafeReturnTo: whatever comes in, what is accepted is a path on this
// site: it parses without scheme, host or user, starts with exactly one
// slash, and holds nothing a browser would strip or turn into a slash.
func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range hostileReturnTo {
		f.Add(s)
	}
	f.Add("/policies?x=1#y")
	f.Add("/audit?issuer=https%3A%2F%2Fidp.example%2F")
	f.Fuzz(func(t *testing.T, raw string) {
		got := SafeReturnTo(raw)
		if got != "/" && got != raw {
			t.Fatalf("SafeReturnTo(%q) = %q: neither the input nor /", raw, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted %q does not parse: %v", got, err)
		}
		if u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
			t.Fatalf("accepted %q has a scheme, host or user: %#v", got, u)
		}
		if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(got, "//") {
			t.Fatalf("accepted %q is not a path starting with a single /", got)
		}
		if strings.ContainsAny(got, "\\\t\r\n\x00 ") || strings.ContainsAny(u.Path, "\\\t\r\n\x00") {
			t.Fatalf("accepted %q holds a backslash, blank or control character", got)
		}
		// What a browser makes of it stays on the page's origin.
		base, _ := url.Parse("https://admin.example/login")
		if r := base.ResolveReference(u); r.Host != "admin.example" || r.Scheme != "https" {
			t.Fatalf("accepted %q resolves to %s", got, r)
		}
	})
}
