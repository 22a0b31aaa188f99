// Package upstream is the app behind the reverse proxy in examples/proxy:
// it has no login and no step-up code of its own. Every page shows its
// path and what stepgate told the proxy about the request
// (X-Stepgate-Subject, X-Stepgate-Decision-Id), so the forward-auth tests
// and the docker-compose `proxy` profile can see who was let in and by
// which audited decision.
package upstream

import (
	"fmt"
	"html"
	"net/http"
)

// Handler serves every path with the same small page.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "<!doctype html><title>app</title><h1 id=\"page\">%s</h1><p id=\"subject\">%s</p><p id=\"decision\">%s</p>\n",
			html.EscapeString(r.URL.Path), html.EscapeString(r.Header.Get("X-Stepgate-Subject")),
			html.EscapeString(r.Header.Get("X-Stepgate-Decision-Id")))
		fmt.Fprint(w, "<p><a href=\"/\">Home</a> · <a href=\"/billing\">Billing</a> (needs MFA) · <a href=\"/_stepgate/signout?rd=/\">Sign out</a></p>\n")
	})
}
