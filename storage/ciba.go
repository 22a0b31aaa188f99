package storage

import "time"

// CIBARequest is one backchannel authentication request stepgate polls
// (the persistent form of pdp/ciba/backchannel.Record). Status is pending,
// approved, denied, expired or error; zero times mean "not set". IDToken
// holds a raw ID token only between an approval and its verification.
type CIBARequest struct {
	ID         string
	DecisionID string
	Issuer     string
	AuthReqID  string
	Status     string
	Interval   time.Duration
	NextPollAt time.Time
	ExpiresAt  time.Time
	LeaseOwner string
	LeaseUntil time.Time
	IDToken    string
	// Claims is JSON, opaque to storage.
	Claims    []byte
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CIBAOffer is what a `ciba` decision (or an explicit start) leaves for
// starting the request later; single use (StartedAt).
type CIBAOffer struct {
	ID         string
	DecisionID string
	ClientID   string
	Issuer     string
	Subject    string
	Action     string
	// Request and Requirements are JSON, opaque to storage.
	Request      []byte
	Requirements []byte
	CreatedAt    time.Time
	ExpiresAt    time.Time
	StartedAt    *time.Time
}

// SessionElevation is a session that a verified step-up elevated, keyed by
// (ClientID, SessionID), valid until ExpiresAt.
type SessionElevation struct {
	ClientID   string
	SessionID  string
	Issuer     string
	Subject    string
	SID        string
	Methods    []string
	ACR        string
	AuthTime   time.Time
	DecisionID string
	StepUpID   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// ElevationFilter selects elevations: every non-empty field must match, and
// a non-zero CreatedBefore spares elevations created at or after it.
type ElevationFilter struct {
	ClientID      string
	SessionID     string
	Issuer        string
	SID           string
	Subject       string
	CreatedBefore time.Time
}
