package pdp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/redact"
)

// ErrAuditUnavailable means the decision could not be recorded; the decision
// is then a deny, because an unrecorded allow is not acceptable.
var ErrAuditUnavailable = errors.New("audit_unavailable")

// AuditEvent is the record of one decision handed to the audit trail.
type AuditEvent struct {
	Time           time.Time
	DecisionID     string
	RequestID      string
	API            string // "native" or "authzen"
	ClientID       string
	Subject        string
	Issuer         string
	Action         string
	ResourceType   string
	ResourceID     string
	Outcome        policy.Outcome
	Reasons        []string
	PolicyRevision int64
	PolicyHash     string
	Latency        time.Duration
	// Input is the policy input as JSON with the values named by the
	// service's redaction paths removed and listed in its top-level
	// "redacted" member; the raw token is never part of it. InputDigest is
	// the SHA-256 of it.
	Input       json.RawMessage
	InputDigest string
	StepUpID    string
	CIBAID      string
}

// AuditSink records decisions. In sync mode Record returns only after the
// events are durable; any error makes the service fail closed.
type AuditSink interface {
	Record(ctx context.Context, events []AuditEvent) error
}

// AuditAnnouncer is an AuditSink that groups records into shared commits.
// The service announces each decision when it starts and releases the
// announcement right before recording it, so the sink can wait briefly for
// decisions already under way instead of committing each on its own.
type AuditAnnouncer interface {
	Announce() (release func())
}

// auditedInput is the policy input as the audit record keeps it: the
// input's members, and beside them what stepgate looked up to fill it
// (ciba_enrollment: the capability, why, from where, whether cached), so
// that a record says why subject.authn.ciba_capable had its value.
type auditedInput struct {
	*policy.Input
	CIBAEnrollment *enrollmentRecord `json:"ciba_enrollment,omitempty"`
}

// redactedInput renders in as JSON without the values named by paths (see
// package redact: a bare name is a claim, removed at any depth of
// subject.claims and subject.properties; a dotted path is rooted at the
// input), with a top-level "redacted" list of what was removed, and returns
// it with its SHA-256. The list is part of the hashed bytes.
func redactedInput(in *policy.Input, paths []string) (json.RawMessage, string) {
	return redactedRecord(auditedInput{Input: in}, paths)
}

// redactedRecord is redactedInput for the input with what was looked up.
func redactedRecord(in auditedInput, paths []string) (json.RawMessage, string) {
	b, err := json.Marshal(in)
	if err == nil {
		b, err = redact.Object(b, paths)
	}
	if err != nil {
		// Input holds only decoded JSON values; keep the record with a
		// placeholder rather than losing it, and never store unredacted
		// values.
		b = []byte(`{"error":"input not serialisable"}`)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}
