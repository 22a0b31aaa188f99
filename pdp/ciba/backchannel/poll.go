package backchannel

import (
	"context"
	"errors"
	"net/url"
)

const opPoll = "ciba token request"

// GrantType is the CIBA grant type of the token request.
const GrantType = "urn:openid:params:grant-type:ciba"

// Outcome classifies the answer to one token request.
type Outcome int

// The outcomes of Poll.
const (
	// OutcomePending: authorization_pending, ask again after the interval.
	OutcomePending Outcome = iota + 1
	// OutcomeSlowDown: slow_down, add at least 5 s to the interval.
	OutcomeSlowDown
	// OutcomeApproved: the user approved; PollResult.Tokens is set.
	OutcomeApproved
	// OutcomeDenied: access_denied.
	OutcomeDenied
	// OutcomeExpired: expired_token.
	OutcomeExpired
	// OutcomeFailed: any other error answer (invalid_grant, invalid_client,
	// …); PollResult.Err says which. Asking again will not help.
	OutcomeFailed
)

var outcomeNames = map[Outcome]string{
	OutcomePending: "pending", OutcomeSlowDown: "slow_down", OutcomeApproved: "approved",
	OutcomeDenied: "denied", OutcomeExpired: "expired", OutcomeFailed: "failed",
}

func (o Outcome) String() string {
	if s, ok := outcomeNames[o]; ok {
		return s
	}
	return "unknown"
}

// Tokens are the token response of an approved request. The ID token is
// returned unverified: the caller verifies it (signature, iss, aud, exp,
// auth_time, acr/amr) before trusting anything in it.
type Tokens struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// PollResult is the answer to one token request.
type PollResult struct {
	Outcome Outcome
	// Tokens is set for OutcomeApproved.
	Tokens *Tokens
	// Err is the server's answer for every outcome but OutcomeApproved.
	Err *Error
}

// Poll makes one token request for authReqID. Error answers of the
// authorization server are classified into the result; the returned error is
// reserved for failures worth retrying later (network, 5xx, 429,
// temporarily_unavailable) and for a success answer without an ID token.
func (c *Client) Poll(ctx context.Context, ep Endpoints, creds Credentials, authReqID string) (PollResult, error) {
	form := url.Values{"grant_type": {GrantType}, "auth_req_id": {authReqID}}
	var tok Tokens
	err := c.post(ctx, opPoll, ep.Token, creds, form, &tok)
	var oe *Error
	switch {
	case err == nil && tok.IDToken == "":
		return PollResult{}, &Error{Op: opPoll, StatusCode: 200, Description: "token response has no id_token"}
	case err == nil:
		return PollResult{Outcome: OutcomeApproved, Tokens: &tok}, nil
	case !errors.As(err, &oe) || oe.Temporary() || oe.StatusCode == 200:
		return PollResult{}, err
	}
	switch oe.Code {
	case CodeAuthorizationPending:
		return PollResult{Outcome: OutcomePending, Err: oe}, nil
	case CodeSlowDown:
		return PollResult{Outcome: OutcomeSlowDown, Err: oe}, nil
	case CodeAccessDenied:
		return PollResult{Outcome: OutcomeDenied, Err: oe}, nil
	case CodeExpiredToken:
		return PollResult{Outcome: OutcomeExpired, Err: oe}, nil
	}
	return PollResult{Outcome: OutcomeFailed, Err: oe}, nil
}
