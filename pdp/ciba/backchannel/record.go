package backchannel

import (
	"encoding/json"
	"time"
)

// Status is where a backchannel request stands, as GET /v1/ciba/{id} reports it.
type Status string

// The statuses of a request. Everything but StatusPending is terminal.
const (
	StatusPending  Status = "pending"
	StatusApproved Status = "approved"
	StatusDenied   Status = "denied"
	StatusExpired  Status = "expired"
	StatusError    Status = "error"
)

// Terminal reports whether polling has ended for s.
func (s Status) Terminal() bool { return s != StatusPending }

// Record is one backchannel request as the Store keeps it. It maps to one
// table with one column per field (Claims as JSON text, durations and times
// in whatever the backend represents exactly); ID is the primary key and
// (Status, NextPollAt) the index PendingRequests uses.
//
// Token policy: no access or refresh token is ever put into a Record. The
// raw ID token of an approval is kept in IDToken only until the consumer has
// verified it and called Poller.Settle, which replaces it with the verified
// Claims (or turns the request into StatusError). Keeping it until then means
// an approval that arrives just before a crash is not lost: the auth_req_id
// is single-use and the IdP would not hand the token out again.
type Record struct {
	// ID is stepgate's identifier of the request (the {id} of /v1/ciba/{id}).
	ID string
	// DecisionID links the request to the decision that asked for it.
	DecisionID string
	// Issuer names the IdP; the Poller resolves endpoints and credentials
	// from it on every poll, so no secret is stored.
	Issuer    string
	AuthReqID string
	Status    Status
	// Interval is the current wait between polls (after slow_down increases).
	Interval   time.Duration
	NextPollAt time.Time
	ExpiresAt  time.Time
	// LeaseOwner is the replica allowed to poll and update the request until
	// LeaseUntil; empty when nobody holds it.
	LeaseOwner string
	LeaseUntil time.Time
	// IDToken is the raw, unverified ID token of an approval not yet settled.
	IDToken string
	// Claims are the verified ID token claims recorded by Poller.Settle.
	Claims json.RawMessage
	// Error says why a request ended in StatusError (or was denied/expired).
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// State is what the Poller reports to its callback at every change: the
// request was accepted (pending), its interval grew (slow_down), or it ended.
type State struct {
	Status     Status
	DecisionID string
	Issuer     string
	AuthReqID  string
	// Interval is the current wait between polls.
	Interval  time.Duration
	ExpiresAt time.Time
	// IDToken is set for StatusApproved: raw and unverified. Verify it with
	// trust.Verifier.VerifyIDToken (issuer, audience = the CIBA client id,
	// signature, auth_time, acr/amr against the decision's requirements),
	// then call Poller.Settle.
	IDToken string
	// Error describes a denial, expiry or failure.
	Error string
	// Code is the IdP's OAuth error code of a denial, expiry or failure
	// (access_denied, expired_token, invalid_grant, …); empty when stepgate
	// ended the request itself (expiry noticed locally, issuer gone). It
	// is reported, not stored.
	Code string
}

func (r Record) state() State {
	return State{
		Status: r.Status, DecisionID: r.DecisionID, Issuer: r.Issuer, AuthReqID: r.AuthReqID,
		Interval: r.Interval, ExpiresAt: r.ExpiresAt, IDToken: r.IDToken, Error: r.Error,
	}
}
