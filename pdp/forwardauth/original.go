package forwardauth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Original is the request the proxy asks about, as its forwarded headers
// describe it.
type Original struct {
	Method string
	// Scheme is http or https.
	Scheme string
	// Host is the host as the browser sent it, with any port.
	Host string
	// URI is the path and query as the browser sent them.
	URI string
	// Path is URI's path, decoded and cleaned, for the route table: a
	// request for /public/../billing is matched as /billing.
	Path string
	// NGINX is true for NGINX's convention (X-Original-URI), whose
	// auth_request passes only 401 and 403: a redirect is then a 401 with
	// Location.
	NGINX bool
	// Accept is the original request's Accept header.
	Accept string
}

// ErrNoOriginal means the subrequest does not say which request it is about.
var ErrNoOriginal = errors.New("the subrequest names no original request: send X-Forwarded-Uri (Traefik, Caddy) or X-Original-URI (NGINX)")

// OriginalOf reads the original request's facts from the proxy's headers.
func OriginalOf(r *http.Request) (Original, error) {
	h := r.Header
	o := Original{Accept: h.Get("Accept")}
	o.URI = h.Get("X-Forwarded-Uri")
	if o.URI == "" {
		o.URI = h.Get("X-Original-URI")
		o.NGINX = o.URI != ""
	}
	if o.URI == "" {
		return o, ErrNoOriginal
	}
	o.Method = strings.ToUpper(firstOf(h.Get("X-Forwarded-Method"), h.Get("X-Original-Method"), r.Method))
	var err error
	if o.Scheme, o.Host, err = originOf(r); err != nil {
		return o, err
	}
	u, err := url.ParseRequestURI(o.URI)
	if err != nil || !strings.HasPrefix(o.URI, "/") {
		return o, fmt.Errorf("the original URI %q is not a path and query", short(o.URI))
	}
	o.Path = path.Clean(u.Path)
	return o, nil
}

// originOf is the scheme and host the browser used: X-Forwarded-Proto and
// X-Forwarded-Host when the proxy sets them, else this request's own.
func originOf(r *http.Request) (scheme, host string, err error) {
	scheme = strings.ToLower(firstOf(r.Header.Get("X-Forwarded-Proto"), "http"))
	if r.Header.Get("X-Forwarded-Proto") == "" && r.TLS != nil {
		scheme = "https"
	}
	if scheme != "http" && scheme != "https" {
		return "", "", fmt.Errorf("X-Forwarded-Proto %q: want http or https", short(scheme))
	}
	host = strings.ToLower(firstOf(r.Header.Get("X-Forwarded-Host"), r.Host))
	if i := strings.IndexByte(host, ','); i >= 0 { // a chain of proxies: the first is the browser's
		host = strings.TrimSpace(host[:i])
	}
	if host == "" || strings.ContainsAny(host, "/\\@?# ") {
		return "", "", fmt.Errorf("the original host %q is not a host", short(host))
	}
	return scheme, host, nil
}

// Origin is scheme://host of the original request.
func (o Original) Origin() string { return o.Scheme + "://" + o.Host }

// URL is the original request's absolute URL.
func (o Original) URL() string { return o.Origin() + o.URI }

// Hostname is Host without its port.
func (o Original) Hostname() string { return hostname(o.Host) }

// Browser reports whether the original request is a browser navigation:
// GET or HEAD accepting HTML. Only those are redirected to the IdP.
func (o Original) Browser() bool {
	return (o.Method == http.MethodGet || o.Method == http.MethodHead) && strings.Contains(o.Accept, "text/html")
}

func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// sameOrigin reports whether raw is an absolute URL on origin.
func sameOrigin(raw, origin string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil {
		return false
	}
	return strings.EqualFold(u.Scheme+"://"+u.Host, origin) && strings.HasPrefix(u.RawPath+u.Path, "/")
}

// localPath reports whether rd is a path on this origin ("/x"), not an
// absolute or scheme-relative URL ("//evil.example", "/\evil.example").
func localPath(rd string) bool {
	if !strings.HasPrefix(rd, "/") || strings.HasPrefix(rd, "//") || strings.HasPrefix(rd, "/\\") {
		return false
	}
	u, err := url.Parse(rd)
	return err == nil && u.Scheme == "" && u.Host == "" && !strings.ContainsAny(rd, "\r\n\t")
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
