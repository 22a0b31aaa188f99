package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/stepgate/stepgate/storage"
)

// auditColumns lists audit_records columns in auditRow field order; search
// and export select them explicitly so a scan never depends on SELECT *.
var auditColumns = []string{
	"id", "chain_id", "seq", "ts", "kind", "decision_id", "request_id", "client_id",
	"subject", "issuer", "action", "resource_type", "resource_id", "outcome", "reasons",
	"policy_revision", "policy_hash", "latency_micros", "input", "input_digest",
	"step_up_id", "ciba_id", "actor", "detail", "prev_hash", "hash",
}

type auditRow struct {
	ID             int64 `gorm:"primaryKey;autoIncrement"`
	ChainID        string
	Seq            int64
	Ts             int64
	Kind           string
	DecisionID     string
	RequestID      string
	ClientID       string
	Subject        string
	Issuer         string
	Action         string
	ResourceType   string
	ResourceID     string
	Outcome        string
	Reasons        string
	PolicyRevision int64
	PolicyHash     string
	LatencyMicros  int64
	Input          []byte
	InputDigest    string
	StepUpID       string
	CIBAID         string `gorm:"column:ciba_id"`
	Actor          string
	Detail         []byte
	PrevHash       string
	Hash           string
}

func (auditRow) TableName() string { return "audit_records" }

type auditChainRow struct {
	ChainID  string `gorm:"primaryKey"`
	LastSeq  int64
	LastHash string
}

func (auditChainRow) TableName() string { return "audit_chains" }

func auditToRow(r storage.AuditRecord) (auditRow, error) {
	reasons := r.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	rs, err := json.Marshal(reasons)
	if err != nil {
		return auditRow{}, fmt.Errorf("encode reasons: %w", err)
	}
	return auditRow{
		ID: r.ID, ChainID: r.ChainID, Seq: r.Seq, Ts: toMicros(r.Time), Kind: r.Kind,
		DecisionID: r.DecisionID, RequestID: r.RequestID, ClientID: r.ClientID, Subject: r.Subject,
		Issuer: r.Issuer, Action: r.Action, ResourceType: r.ResourceType, ResourceID: r.ResourceID,
		Outcome: r.Outcome, Reasons: string(rs), PolicyRevision: r.PolicyRevision,
		PolicyHash: r.PolicyHash, LatencyMicros: r.LatencyMicros, Input: r.Input,
		InputDigest: r.InputDigest, StepUpID: r.StepUpID, CIBAID: r.CIBAID, Actor: r.Actor,
		Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash,
	}, nil
}

func (r auditRow) toRecord() (storage.AuditRecord, error) {
	var reasons []string
	if err := json.Unmarshal([]byte(r.Reasons), &reasons); err != nil {
		return storage.AuditRecord{}, fmt.Errorf("decode reasons of audit record %d: %w", r.ID, err)
	}
	if len(reasons) == 0 {
		reasons = nil
	}
	return storage.AuditRecord{
		ID: r.ID, ChainID: r.ChainID, Seq: r.Seq, Time: fromMicros(r.Ts), Kind: r.Kind,
		DecisionID: r.DecisionID, RequestID: r.RequestID, ClientID: r.ClientID, Subject: r.Subject,
		Issuer: r.Issuer, Action: r.Action, ResourceType: r.ResourceType, ResourceID: r.ResourceID,
		Outcome: r.Outcome, Reasons: reasons, PolicyRevision: r.PolicyRevision,
		PolicyHash: r.PolicyHash, LatencyMicros: r.LatencyMicros, Input: r.Input,
		InputDigest: r.InputDigest, StepUpID: r.StepUpID, CIBAID: r.CIBAID, Actor: r.Actor,
		Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash,
	}, nil
}
