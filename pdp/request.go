package pdp

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/stepgate/stepgate/pdp/policy"
)

// ErrInvalidRequest is wrapped by every validation error; its message is
// safe to show the caller as error_description.
var ErrInvalidRequest = errors.New("invalid request")

// actionPattern is the contract's action syntax.
var actionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`)

// Request is a native decision request (POST /v1/decision).
type Request struct {
	Token    string
	Claims   map[string]any
	Action   string
	Resource policy.Resource
	Context  map[string]any
	ReturnTo string
	// SessionID names the app's session, so that a step-up elevation of
	// it applies (see Elevation); optional.
	SessionID string
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// ValidAction reports whether name follows the action syntax.
func ValidAction(name string) bool { return actionPattern.MatchString(name) }

// Validate checks the request against the contract and what client may do.
func (r *Request) Validate(c Client) error {
	hasToken, hasClaims := r.Token != "", r.Claims != nil
	switch {
	case hasToken && hasClaims:
		return invalid("send exactly one of token and claims, not both")
	case !hasToken && !hasClaims:
		return invalid("send exactly one of token and claims")
	}
	if hasClaims {
		if !c.AssertClaims {
			return fmt.Errorf("%w: client %q may not assert claims; send the user's token", ErrForbidden, c.ID)
		}
		if sub, ok := r.Claims["sub"].(string); !ok || sub == "" {
			return invalid("claims.sub must be a non-empty string")
		}
	}
	if r.Action == "" {
		return invalid("action is required")
	}
	if !ValidAction(r.Action) {
		return invalid("action %q must match %s", shorten(r.Action, 64), actionPattern)
	}
	if r.SessionID != "" && !ValidSessionID(r.SessionID) {
		return invalid("session_id must be 1 to %d visible ASCII characters", maxSessionIDLen)
	}
	if r.ReturnTo != "" && !c.ReturnToAllowed(r.ReturnTo) {
		return invalid("return_to is not in this client's allowlist")
	}
	return nil
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ReturnToAllowed reports whether target matches one of the client's
// allowed prefixes. Scheme and host must be equal (so that
// https://app.example cannot be extended to https://app.example.evil), the
// path must start at a segment boundary, and userinfo is refused.
func (c Client) ReturnToAllowed(target string) bool {
	t, err := url.Parse(target)
	if err != nil || !t.IsAbs() || t.User != nil || t.Host == "" || t.Opaque != "" {
		return false
	}
	for _, a := range c.ReturnTo {
		p, err := url.Parse(a)
		if err != nil || !p.IsAbs() {
			continue
		}
		if !strings.EqualFold(p.Scheme, t.Scheme) || !strings.EqualFold(p.Host, t.Host) {
			continue
		}
		prefix := p.EscapedPath()
		path := t.EscapedPath()
		if prefix == "" || prefix == "/" || path == prefix ||
			strings.HasPrefix(path, strings.TrimSuffix(prefix, "/")+"/") {
			return true
		}
	}
	return false
}
