package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// AuditHashVersion names the canonical encoding implemented by
// CanonicalAudit. It is the first field of every encoding, so a future
// version can never collide with this one.
const AuditHashVersion = "stepgate-audit-v1"

// CanonicalAudit returns the canonical byte encoding of r that ComputeAuditHash
// hashes. Version stepgate-audit-v1 is the concatenation of netstrings
// (`<decimal byte length>:<bytes>,`, see https://cr.yp.to/proto/netstrings.txt)
// of these fields, in this order:
//
//	 1 "stepgate-audit-v1"
//	 2 chain_id
//	 3 seq                 decimal
//	 4 prev_hash           lowercase hex, "" for the first record of a chain
//	 5 time                decimal Unix microseconds (UTC)
//	 6 kind
//	 7 decision_id
//	 8 request_id
//	 9 client_id
//	10 subject
//	11 issuer
//	12 action
//	13 resource_type
//	14 resource_id
//	15 outcome
//	16 reasons             the concatenated netstrings of each reason, in order
//	17 policy_revision     decimal
//	18 policy_hash
//	19 latency_micros      decimal
//	20 input               raw bytes
//	21 input_digest
//	22 step_up_id
//	23 ciba_id
//	24 actor
//	25 detail              raw bytes
//
// Decimals are base 10 with a leading "-" when negative and no leading zeros.
// Strings are their UTF-8 bytes. The hash is the lowercase hex SHA-256 of the
// encoding. ID and Hash itself are not part of it: ID is a storage detail.
func CanonicalAudit(r AuditRecord) []byte {
	b := make([]byte, 0, 256+len(r.Input)+len(r.Detail))
	b = netstring(b, AuditHashVersion)
	b = netstring(b, r.ChainID)
	b = netstring(b, strconv.FormatInt(r.Seq, 10))
	b = netstring(b, r.PrevHash)
	b = netstring(b, strconv.FormatInt(r.Time.UnixMicro(), 10))
	for _, s := range []string{r.Kind, r.DecisionID, r.RequestID, r.ClientID, r.Subject,
		r.Issuer, r.Action, r.ResourceType, r.ResourceID, r.Outcome} {
		b = netstring(b, s)
	}
	var reasons []byte
	for _, s := range r.Reasons {
		reasons = netstring(reasons, s)
	}
	b = netstring(b, reasons)
	b = netstring(b, strconv.FormatInt(r.PolicyRevision, 10))
	b = netstring(b, r.PolicyHash)
	b = netstring(b, strconv.FormatInt(r.LatencyMicros, 10))
	b = netstring(b, r.Input)
	for _, s := range []string{r.InputDigest, r.StepUpID, r.CIBAID, r.Actor} {
		b = netstring(b, s)
	}
	b = netstring(b, r.Detail)
	return b
}

// ComputeAuditHash returns the lowercase hex SHA-256 of CanonicalAudit(r).
func ComputeAuditHash(r AuditRecord) string {
	sum := sha256.Sum256(CanonicalAudit(r))
	return hex.EncodeToString(sum[:])
}

// NormalizeTime converts t to the form the store keeps: UTC, truncated to the
// microsecond. Hashes are always computed over normalised times.
func NormalizeTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

func netstring[T string | []byte](b []byte, v T) []byte {
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	b = append(b, v...)
	return append(b, ',')
}
