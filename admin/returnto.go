package admin

import (
	"net/url"
	"strings"
)

// maxReturnTo bounds a return target; a longer one is refused.
const maxReturnTo = 2048

// SafeReturnTo returns raw when it is a path on this site that no browser
// can read as another origin, and "/" otherwise. It is the one check of
// every return_to (and next) the admin UI reads, before it is stored in a
// pending sign-in or sent as a Location.
//
// Browsers are more lenient than url.Parse: they drop tabs and newlines
// anywhere in a URL, read a backslash as a slash, and undo nothing for
// percent-encoding in the path, so "/%09/evil.example" (a tab) and
// "/\evil.example" leave the site although they look like paths. So the
// check is strict rather than clever: only printable ASCII without a
// backslash, no percent-encoded control character anywhere nor an encoded
// slash or backslash in the path, and what url.Parse gives back must be a
// plain absolute path (no scheme, no host, no user) whose decoded form
// does not start with "//" and holds no backslash or control character.
func SafeReturnTo(raw string) string {
	if raw == "" || len(raw) > maxReturnTo || raw[0] != '/' {
		return "/"
	}
	inPath := true
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c <= ' ' || c >= 0x7f || c == '\\':
			return "/"
		case c == '?' || c == '#':
			inPath = false
		case c == '%' && !safeEscape(raw[i+1:], inPath):
			return "/"
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	p := u.Path
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(u.EscapedPath(), "//") {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < ' ' || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	return raw
}

// safeEscape reports whether the two hex digits after a '%' encode
// something a browser cannot turn into a different origin: never a control
// character, and in the path not a slash or backslash either (an encoded
// "//" or "/\" is read as a host by proxies and servers that decode the
// path before they redirect). The query may carry encoded slashes: an
// issuer URL in an audit filter does.
func safeEscape(s string, inPath bool) bool {
	if len(s) < 2 || !isHex(s[0]) || !isHex(s[1]) {
		return false
	}
	v := unhex(s[0])<<4 | unhex(s[1])
	if v < ' ' || v == 0x7f {
		return false
	}
	return !inPath || v != '/' && v != '\\'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
