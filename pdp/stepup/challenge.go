package stepup

import (
	"strconv"
	"strings"
)

// maxErrorDescription keeps WWW-Authenticate headers short.
const maxErrorDescription = 200

// InsufficientAuthChallenge renders the RFC 9470 WWW-Authenticate value:
// Bearer error="insufficient_user_authentication", error_description,
// acr_values (space-separated, preference order) and max_age.
func InsufficientAuthChallenge(description string, acrValues []string, maxAge *int64) string {
	var b strings.Builder
	b.WriteString(`Bearer error="insufficient_user_authentication"`)
	if description != "" {
		b.WriteString(`, error_description=`)
		b.WriteString(quoteParam(description))
	}
	if len(acrValues) > 0 {
		b.WriteString(`, acr_values=`)
		b.WriteString(quoteParam(strings.Join(acrValues, " ")))
	}
	if maxAge != nil {
		b.WriteString(`, max_age="`)
		b.WriteString(strconv.FormatInt(*maxAge, 10))
		b.WriteByte('"')
	}
	return b.String()
}

// InvalidTokenChallenge renders the RFC 6750 challenge for a bad user token.
func InvalidTokenChallenge(description string) string {
	return `Bearer error="invalid_token", error_description=` + quoteParam(description)
}

// quoteParam makes an RFC 7230 quoted-string. RFC 6749 limits
// error_description to printable ASCII without '"' and '\', so anything
// else is replaced rather than escaped, keeping every client's parser happy.
func quoteParam(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	n := 0
	for _, r := range s {
		if n >= maxErrorDescription {
			b.WriteString("...")
			break
		}
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\'')
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
		n++
	}
	b.WriteByte('"')
	return b.String()
}
