package pdp

import (
	"fmt"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
)

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

// Validate checks the request against the contract and what client may do.
func (r *Request) Validate(c clientauth.Client) error {
	hasToken, hasClaims := r.Token != "", r.Claims != nil
	switch {
	case hasToken && hasClaims:
		return clientauth.Invalidf("send exactly one of token and claims, not both")
	case !hasToken && !hasClaims:
		return clientauth.Invalidf("send exactly one of token and claims")
	}
	if hasClaims {
		if !c.AssertClaims {
			return fmt.Errorf("%w: client %q may not assert claims; send the user's token", clientauth.ErrForbidden, c.ID)
		}
		if sub, ok := r.Claims["sub"].(string); !ok || sub == "" {
			return clientauth.Invalidf("claims.sub must be a non-empty string")
		}
	}
	if r.Action == "" {
		return clientauth.Invalidf("action is required")
	}
	if !policy.ValidAction(r.Action) {
		return clientauth.Invalidf("action %q must match %s", clientauth.Shorten(r.Action, 64), policy.ActionPattern)
	}
	if r.SessionID != "" && !session.ValidSessionID(r.SessionID) {
		return clientauth.Invalidf("session_id must be 1 to %d visible ASCII characters", session.MaxSessionIDLen)
	}
	if r.ReturnTo != "" && !c.ReturnToAllowed(r.ReturnTo) {
		return clientauth.Invalidf("return_to is not in this client's allowlist")
	}
	return nil
}
