package stepgateclient

import (
	"net/http"
	"net/url"
	"strings"
)

// ReturnToParam is the query parameter that carries the page to return to
// through the app's sign-in (see SignInURL).
const ReturnToParam = "return_to"

// maxReturnTo bounds a return path; longer ones are refused.
const maxReturnTo = 2048

// SafeReturnTo returns target when it is a path on the app's own origin
// ("/billing?tab=2"), and fallback otherwise: absolute URLs,
// scheme-relative "//host", backslashes (which browsers read as slashes)
// and control characters (which browsers strip) are all refused, so a
// return URL can never send the user to another site.
func SafeReturnTo(target, fallback string) string {
	if target == "" || len(target) > maxReturnTo || target[0] != '/' || strings.HasPrefix(target, "//") ||
		strings.ContainsAny(target, `\`) {
		return fallback
	}
	for _, c := range target {
		if c < 0x20 || c == 0x7f {
			return fallback
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return target
}

// SignInURL is signIn with the page r asked for as ReturnToParam, so that
// the app's sign-in can bring the user back to it (a deep link survives
// sign-in). Only GET and HEAD requests are pages to return to; for others
// signIn is returned as it is.
func SignInURL(signIn string, r *http.Request) string {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return signIn
	}
	target := SafeReturnTo(r.URL.RequestURI(), "")
	if target == "" || target == "/" {
		return signIn
	}
	u, err := url.Parse(signIn)
	if err != nil {
		return signIn
	}
	q := u.Query()
	q.Set(ReturnToParam, target)
	u.RawQuery = q.Encode()
	return u.String()
}

// ReturnToFrom reads the ReturnToParam of a sign-in request, "" when it is
// missing or not a same-origin path.
func ReturnToFrom(r *http.Request) string {
	return SafeReturnTo(r.URL.Query().Get(ReturnToParam), "")
}
