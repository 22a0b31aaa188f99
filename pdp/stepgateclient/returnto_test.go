package stepgateclient_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

func TestSafeReturnTo(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a path", "/billing", "/billing"},
		{"a path with a query", "/billing?tab=2&x=%2F", "/billing?tab=2&x=%2F"},
		{"an absolute URL", "https://evil.example/billing", "/home"},
		{"scheme-relative", "//evil.example/", "/home"},
		{"a backslash browsers read as a slash", `/\evil.example`, "/home"},
		{"a tab browsers strip", "/\t/evil.example", "/home"},
		{"a newline", "/billing\nSet-Cookie: x", "/home"},
		{"relative without a slash", "billing", "/home"},
		{"javascript", "javascript:alert(1)", "/home"},
		{"empty", "", "/home"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := stepgateclient.SafeReturnTo(tc.in, "/home"); got != tc.want {
				t.Fatalf("SafeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestReturnToFrom(t *testing.T) {
	tests := []struct{ target, want string }{
		{"/login?return_to=%2Fbilling%3Fmonth%3D3", "/billing?month=3"},
		{"/login?return_to=https%3A%2F%2Fevil.example", ""},
		{"/login?return_to=%2F%2Fevil.example", ""},
		{"/login", ""},
	}
	for _, tc := range tests {
		if got := stepgateclient.ReturnToFrom(httptest.NewRequest("GET", tc.target, nil)); got != tc.want {
			t.Errorf("ReturnToFrom(%s) = %q, want %q", tc.target, got, tc.want)
		}
	}
}
