package storage

import "time"

// Audit record kinds.
const (
	KindDecision   = "decision"
	KindAdmin      = "admin"
	KindCheckpoint = "checkpoint"
	KindCIBA       = "ciba"
	KindStepUp     = "stepup"
	KindSession    = "session"
)

// AuditRecord is one entry of the tamper-evident audit trail. Content fields
// are set by the producer; ID, Seq, PrevHash and Hash are set by the store.
type AuditRecord struct {
	// ID is the store's row id; it orders records with equal Time.
	ID int64 `json:"id"`
	// ChainID names the hash chain (one per writer/replica); Seq numbers the
	// records of one chain from 1 without gaps.
	ChainID string `json:"chain_id"`
	Seq     int64  `json:"seq"`
	// Time is when the event happened (UTC, microsecond precision).
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	DecisionID string    `json:"decision_id,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	ClientID   string    `json:"client_id,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Issuer     string    `json:"issuer,omitempty"`
	Action     string    `json:"action,omitempty"`
	// ResourceType and ResourceID identify the resource of the decision.
	ResourceType string `json:"resource_type,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
	// Outcome is the decision (allow, deny, step_up, ciba) or, for admin
	// records, the result of the change.
	Outcome string   `json:"outcome,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	// PolicyRevision and PolicyHash identify the policy that decided.
	PolicyRevision int64  `json:"policy_revision,omitempty"`
	PolicyHash     string `json:"policy_hash,omitempty"`
	LatencyMicros  int64  `json:"latency_micros,omitempty"`
	// Input is the redacted policy input as JSON, opaque to storage. It is
	// hashed byte for byte, so exports must carry it unchanged (encoding/json
	// renders a []byte as base64, which does).
	Input       []byte `json:"input,omitempty"`
	InputDigest string `json:"input_digest,omitempty"`
	StepUpID    string `json:"step_up_id,omitempty"`
	CIBAID      string `json:"ciba_id,omitempty"`
	// Actor is who made an admin change; Detail describes it as JSON (opaque,
	// hashed byte for byte like Input).
	Actor  string `json:"actor,omitempty"`
	Detail []byte `json:"detail,omitempty"`
	// PrevHash is the Hash of the previous record of the chain ("" for the
	// first); Hash is ComputeAuditHash of this record.
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// AuditQuery filters audit records. Empty fields do not filter.
type AuditQuery struct {
	// Since (inclusive) and Until (exclusive) bound Time.
	Since, Until   *time.Time
	ClientID       string
	Subject        string
	Action         string
	Outcome        string
	DecisionID     string
	Kind           string
	PolicyRevision int64
	// SubjectPrefix and ActionPrefix keep records whose Subject (Action)
	// starts with the text, compared case-insensitively: "ali" finds
	// "Alice". The database folds case (ASCII on SQLite, its locale's
	// rules on PostgreSQL) and an index serves the match on both.
	SubjectPrefix, ActionPrefix string
	// OldestFirst orders a search (and its cursors) by ascending time
	// instead of newest first.
	OldestFirst bool
	// Limit caps a search page (default 50, maximum 1000). Export ignores it.
	Limit int
	// Cursor continues a search from the page that returned it, in either
	// direction (AuditPage.NextCursor or PrevCursor). A cursor made for
	// the other order is ErrInvalid.
	Cursor string
	// ChainOrder makes ExportAudit stream by chain id and sequence instead of
	// newest first, the order VerifyChain needs for offline verification.
	ChainOrder bool
}

// AuditPage is one page of search results, in the query's order.
type AuditPage struct {
	Records []AuditRecord
	// NextCursor continues with the records after this page (older ones
	// newest first); empty on the last page.
	NextCursor string
	// PrevCursor goes back to the records before this page (newer ones
	// newest first); empty on the first page.
	PrevCursor string
}

// AuditCount is how many records a query matches, counted up to a bound
// so that a broad search does not count the whole trail.
type AuditCount struct {
	// N is the number of matching records, at most the bound.
	N int64
	// More is true when more than N records match.
	More bool
}

// VerifyReport is the outcome of walking the audit chains.
type VerifyReport struct {
	// OK is true when every chain verified.
	OK bool
	// Checked counts the records examined.
	Checked int64
	// Chains counts the chains examined.
	Chains int
	// FirstBroken names the first defect found; nil when OK.
	FirstBroken *BrokenRecord
	// Anchored is true when the walk was checked against signed
	// checkpoints (Anchors); Unanchored then lists, per chain, the records
	// no checkpoint covers yet (written after the last one), which are
	// consistent but not yet proven against a rewrite.
	Anchored   bool
	Unanchored []ChainRange
}

// ChainRange is the records FromSeq..ToSeq (inclusive) of one chain.
type ChainRange struct {
	ChainID string `json:"chain_id"`
	FromSeq int64  `json:"from_seq"`
	ToSeq   int64  `json:"to_seq"`
}

// Anchors are the chain positions that signed checkpoints, kept outside the
// database, vouch for: per chain id, the points in ascending Seq order. A
// walk checked against them (ChainVerifier.Anchor) finds every rewrite of
// a record at or before a point, a chain cut back below one, and a chain
// deleted altogether, however consistently the database was rewritten.
type Anchors map[string][]AnchorPoint

// AnchorPoint is one signed chain position: the record Seq had Hash when
// the checkpoint signed at Time was made.
type AnchorPoint struct {
	Seq  int64
	Hash string
	Time time.Time
}

// BrokenRecord names a record that fails verification and why.
type BrokenRecord struct {
	ChainID    string
	Seq        int64
	ID         int64
	DecisionID string
	Reason     string
}

// Checkpoint is the Detail document of a KindCheckpoint record written by
// retention: it vouches for the link between the deleted prefix and the first
// remaining record of its chain.
type Checkpoint struct {
	// DeletedThroughSeq is the last deleted sequence number of the chain.
	DeletedThroughSeq int64 `json:"deleted_through_seq"`
	// DeletedThroughHash is the Hash of that record, i.e. the PrevHash the
	// first remaining record must carry.
	DeletedThroughHash string `json:"deleted_through_hash"`
	// Deleted counts the records removed from this chain by this run.
	Deleted int64 `json:"deleted"`
	// Before is the retention cut-off of the run.
	Before time.Time `json:"before"`
}
