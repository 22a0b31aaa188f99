package storage

import (
	"encoding/json"
	"time"
)

// FlowDetail is the Detail document of a flow record (KindStepUp, KindCIBA,
// KindSession): what happened after a decision that the record's columns
// cannot hold. It is written once, by cmd/stepgate's flow sink, and read by
// the admin UI and exports; like every Detail it is hashed byte for byte.
type FlowDetail struct {
	// SessionID is the app session a step-up elevated or a revocation
	// ended; SID the IdP session (sid claim) a logout named.
	SessionID string `json:"session_id,omitempty"`
	SID       string `json:"sid,omitempty"`
	// Code is the stable error code of a refused step-up or a failed CIBA
	// request (the IdP's OAuth error where it sent one).
	Code string `json:"code,omitempty"`
	// ACR, AMR and AuthTime are the authentication facts the checked ID
	// token showed.
	ACR      string    `json:"acr,omitempty"`
	AMR      []string  `json:"amr,omitempty"`
	AuthTime time.Time `json:"auth_time,omitzero"`
}

// FlowKinds are the kinds of flow records, in display order.
var FlowKinds = []string{KindStepUp, KindCIBA, KindSession}

// IsFlowKind reports whether kind is one of FlowKinds.
func IsFlowKind(kind string) bool {
	return kind == KindStepUp || kind == KindCIBA || kind == KindSession
}

// FlowDetailOf decodes the Detail of a flow record. It reports false for
// other kinds and for a flow record without (readable) detail.
func FlowDetailOf(rec AuditRecord) (FlowDetail, bool) {
	var d FlowDetail
	if !IsFlowKind(rec.Kind) || len(rec.Detail) == 0 || json.Unmarshal(rec.Detail, &d) != nil {
		return FlowDetail{}, false
	}
	return d, true
}
