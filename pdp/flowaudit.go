package pdp

import (
	"context"
	"time"
)

// Kinds of a FlowEvent.
const (
	// FlowCIBA records how a backchannel authentication run by stepgate
	// ended: approved, denied, expired or error.
	FlowCIBA = "ciba"
	// FlowSession records a session elevation being granted or revoked.
	FlowSession = "session"
)

// FlowEvent is an audit record of something that happened after a decision
// and because of it: a CIBA request stepgate ran ended, or a step-up
// elevated a session that a revocation or a back-channel logout ended
// later. DecisionID links it to the decision that started the flow.
type FlowEvent struct {
	Time time.Time
	// Kind is FlowCIBA or FlowSession.
	Kind       string
	DecisionID string
	ClientID   string
	Subject    string
	Issuer     string
	Action     string
	// Outcome is approved | denied | expired | error for CIBA and
	// elevated | revoked for sessions.
	Outcome string
	Reasons []string
	// CIBAID is stepgate's id of the CIBA request; StepUpID the step-up
	// transaction that elevated a session; SessionID the elevated session.
	CIBAID    string
	StepUpID  string
	SessionID string
}

// FlowAuditor records flow events in the audit trail. cmd/stepgate adapts it
// to the audit writer (record kind = Kind). An error is logged by the
// caller; it cannot undo what already happened at the IdP.
type FlowAuditor interface {
	RecordFlow(ctx context.Context, ev FlowEvent) error
}
