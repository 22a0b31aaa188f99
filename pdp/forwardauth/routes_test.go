package forwardauth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/forwardauth"
)

func TestTableMatch(t *testing.T) {
	table, err := forwardauth.NewTable([]forwardauth.Route{
		{Host: "admin.example.com", Path: "/**", Action: "admin.view"},
		{Methods: []string{"post"}, Path: "/billing/pay", Action: "billing.pay", ResourceType: "payment"},
		{Path: "/billing/**", Action: "billing.view", ResourceType: "page"},
		{Host: "*.shop.example", Path: "/orders/*", Action: "orders.view"},
	}, forwardauth.DefaultRoute{Action: "app.view"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, host, method, path string
		action, resource         string
	}{
		{"host route wins", "Admin.Example.com", "GET", "/billing", "admin.view", "http"},
		{"method route", "app.example", "POST", "/billing/pay", "billing.pay", "payment"},
		{"other method falls through to the prefix", "app.example", "GET", "/billing/pay", "billing.view", "page"},
		{"prefix matches its base", "app.example", "GET", "/billing", "billing.view", "page"},
		{"prefix matches below", "app.example", "GET", "/billing/invoices/42", "billing.view", "page"},
		{"prefix is not a string prefix", "app.example", "GET", "/billingx", "app.view", "http"},
		{"subdomain glob", "eu.shop.example", "GET", "/orders/7", "orders.view", "http"},
		{"glob is one segment", "eu.shop.example", "GET", "/orders/7/items", "app.view", "http"},
		{"default", "app.example", "GET", "/", "app.view", "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			action, resource, ok := table.Match(strings.ToLower(tc.host), tc.method, tc.path)
			if !ok || action != tc.action || resource != tc.resource {
				t.Fatalf("Match = %q %q %v, want %q %q", action, resource, ok, tc.action, tc.resource)
			}
		})
	}
	deny, err := forwardauth.NewTable(nil, forwardauth.DefaultRoute{Deny: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := deny.Match("a", "GET", "/"); ok {
		t.Fatal("a deny default matched")
	}
}

func TestTableRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		routes []forwardauth.Route
		def    forwardauth.DefaultRoute
		want   string
	}{
		{"no default", nil, forwardauth.DefaultRoute{}, "explicit action or deny"},
		{"both defaults", nil, forwardauth.DefaultRoute{Action: "a", Deny: true}, "not both"},
		{"bad default action", nil, forwardauth.DefaultRoute{Action: "a b"}, "must match"},
		{"relative path", []forwardauth.Route{{Path: "billing", Action: "a"}}, forwardauth.DefaultRoute{Deny: true}, "must start with /"},
		{"bad pattern", []forwardauth.Route{{Path: "/[", Action: "a"}}, forwardauth.DefaultRoute{Deny: true}, "syntax error"},
		{"bad action", []forwardauth.Route{{Path: "/", Action: ""}}, forwardauth.DefaultRoute{Deny: true}, "must match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := forwardauth.NewTable(tc.routes, tc.def)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewTable error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOriginalOf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    forwardauth.Original
		browser bool
		err     string
	}{
		{name: "traefik", headers: map[string]string{"X-Forwarded-Method": "post", "X-Forwarded-Proto": "https",
			"X-Forwarded-Host": "App.Example", "X-Forwarded-Uri": "/billing/pay?x=1", "Accept": "application/json"},
			want: forwardauth.Original{Method: "POST", Scheme: "https", Host: "app.example", URI: "/billing/pay?x=1", Path: "/billing/pay", Accept: "application/json"}},
		{name: "nginx", headers: map[string]string{"X-Original-Method": "GET", "X-Original-URI": "/public/../billing",
			"X-Forwarded-Host": "127.0.0.1:8000", "Accept": "text/html,*/*"},
			want: forwardauth.Original{Method: "GET", Scheme: "http", Host: "127.0.0.1:8000", URI: "/public/../billing", Path: "/billing",
				NGINX: true, Accept: "text/html,*/*"}, browser: true},
		{name: "host of the subrequest", headers: map[string]string{"X-Forwarded-Uri": "/"},
			want: forwardauth.Original{Method: "GET", Scheme: "http", Host: "stepgate.internal", URI: "/", Path: "/"}},
		{name: "no original", headers: map[string]string{}, err: "names no original request"},
		{name: "absolute URI", headers: map[string]string{"X-Forwarded-Uri": "https://evil.example/"}, err: "not a path"},
		{name: "bad proto", headers: map[string]string{"X-Forwarded-Uri": "/", "X-Forwarded-Proto": "javascript"}, err: "want http or https"},
		{name: "bad host", headers: map[string]string{"X-Forwarded-Uri": "/", "X-Forwarded-Host": "evil.example/x"}, err: "not a host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "http://stepgate.internal/v1/forward-auth", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			o, err := forwardauth.OriginalOf(r)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("OriginalOf error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || o != tc.want || o.Browser() != tc.browser {
				t.Fatalf("OriginalOf = %+v, %v (browser %v); want %+v (browser %v)", o, err, o.Browser(), tc.want, tc.browser)
			}
		})
	}
}
