package flow

import (
	"context"
	"time"

	"github.com/stepgate/stepgate/pdp/trust"
)

// Kinds of a Event.
const (
	// KindStepUp records one attempt to verify a step-up: accepted
	// (Outcome "verified") or refused (Outcome = the error code).
	KindStepUp = "stepup"
	// KindCIBA records a backchannel authentication run by stepgate:
	// started, approved, denied, expired or error.
	KindCIBA = "ciba"
	// KindSession records a session elevation being granted or revoked,
	// and a session ended by a back-channel logout or a client's
	// revocation.
	KindSession = "session"
)

// Event is an audit record of something that happened after a decision
// and because of it: a step-up verified or refused, a CIBA request stepgate
// ran started or ended, a step-up elevated a session that a revocation or a
// back-channel logout ended later. DecisionID links it to the decision that
// started the flow (empty when none is known, e.g. a logout from the IdP or
// a verify naming an unknown transaction).
type Event struct {
	Time time.Time
	// Kind is KindStepUp, KindCIBA or KindSession.
	Kind       string
	DecisionID string
	ClientID   string
	Subject    string
	Issuer     string
	Action     string
	// Outcome is verified | <verify error code> for step-up;
	// started | approved | denied | expired | error for CIBA; elevated |
	// revoked | logout for sessions.
	Outcome string
	Reasons []string
	// CIBAID is stepgate's id of the CIBA request; StepUpID the step-up
	// transaction; SessionID the elevated or ended session; SID the IdP
	// session (sid claim) a logout named.
	CIBAID    string
	StepUpID  string
	SessionID string
	SID       string
	// Code is the stable error code of a refused step-up or a failed CIBA
	// request; empty on success.
	Code string
	// Proof holds the authentication facts of the ID token that was
	// checked (verified or not): what the user actually proved.
	Proof *trust.ProofFacts
}

// Auditor records flow events in the audit trail. cmd/stepgate adapts it
// to the audit writer (record kind = Kind). In sync audit mode RecordFlow
// returns only once the record is committed, so a caller that must not
// report success without a record (step-up verify) can fail closed.
type Auditor interface {
	RecordFlow(ctx context.Context, ev Event) error
}
