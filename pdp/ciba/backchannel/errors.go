package backchannel

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on.
var (
	// ErrInvalidRequest marks a Request that is rejected before anything is
	// sent: no or several hints, no openid scope, a negative expiry.
	ErrInvalidRequest = errors.New("invalid backchannel authentication request")
	// ErrNotFound is returned by a Store for an unknown request id.
	ErrNotFound = errors.New("backchannel request not found")
	// ErrDuplicate is returned by a Store when a request id already exists.
	ErrDuplicate = errors.New("backchannel request already exists")
	// ErrLeaseLost is returned by a Store when an update is made by a replica
	// that no longer holds the request's lease.
	ErrLeaseLost = errors.New("backchannel request lease lost")
	// ErrNotApproved is returned by Poller.Settle for a request that is not
	// (or no longer) approved.
	ErrNotApproved = errors.New("backchannel request is not approved")
	// ErrSettled is returned by Poller.Settle for an approval that was
	// settled already (by another call, possibly on another replica).
	ErrSettled = errors.New("backchannel request already settled")
)

// OAuth error codes of the CIBA exchange (OpenID CIBA Core §11, §13; RFC 6749 §5.2).
const (
	CodeAuthorizationPending   = "authorization_pending"
	CodeSlowDown               = "slow_down"
	CodeExpiredToken           = "expired_token"
	CodeAccessDenied           = "access_denied"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidGrant           = "invalid_grant"
	CodeInvalidRequest         = "invalid_request"
	CodeUnknownUserID          = "unknown_user_id"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// Error is an error response of the authorization server, or a response that
// could not be understood.
type Error struct {
	// Op is the exchange that failed: "backchannel authentication request"
	// or "ciba token request".
	Op string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Code is the OAuth `error` value; empty when the body carried none.
	Code string
	// Description is `error_description`, or a short excerpt of a body
	// that was not an OAuth error.
	Description string
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = fmt.Sprintf("HTTP %d", e.StatusCode)
	}
	if e.Description == "" {
		return fmt.Sprintf("%s: %s", e.Op, code)
	}
	return fmt.Sprintf("%s: %s: %s", e.Op, code, e.Description)
}

// Temporary reports whether retrying the same request later may succeed:
// server errors, rate limiting and temporarily_unavailable.
func (e *Error) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == 429 || e.Code == CodeTemporarilyUnavailable
}
