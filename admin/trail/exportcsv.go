package trail

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// CSVHeader names the columns of a CSV export. The first columns are the
// ones people read (when, what, who, the outcome and why, the sign-in's mfa
// and amr), then the chain position, then the readable facts of flow
// records (code, session_id, sid, acr, auth_time; amr is then the proof's),
// then the rest of what the chain hash covers: every hashed field is a
// column, input and detail as the exact JSON that was hashed and reasons
// as a JSON array. The last columns are not hashed: who activated the
// record's policy revision (and approved it, in four-eyes mode), when and
// why, from the revision timeline.
//
// Cells that begin with = + - @ tab or CR would run as formulas in a
// spreadsheet; such a cell, and one that begins with ', is written with a
// ' in front. The rule is reversible (drop one leading ' from every text
// cell), so a CSV still determines the hashed values, but NDJSON is the
// format for offline verification.
var CSVHeader = []string{
	"time", "kind", "decision_id", "client_id", "subject", "issuer", "action", "resource_type", "resource_id",
	"outcome", "reasons", "policy_revision", "mfa", "amr", "latency_micros", "actor", "request_id",
	"chain_id", "seq", "hash",
	"step_up_id", "ciba_id", "code", "session_id", "sid", "acr", "auth_time",
	"id", "prev_hash", "policy_hash", "input_digest", "input", "detail",
	"revision_activated_at", "revision_activated_by", "revision_approved_by", "revision_activation_reason",
}

// csvTime keeps the stored microseconds (the hash covers them) in a
// fixed width, so the column sorts as text.
const csvTime = "2006-01-02T15:04:05.000000Z"

// csvRow fills row with the columns of e, in CSVHeader's order.
func csvRow(row []string, e Entry) {
	r := e.Rec
	reasons := []byte("[]")
	if len(r.Reasons) > 0 {
		reasons, _ = json.Marshal(r.Reasons)
	}
	mfa, amr := "", strings.Join(e.Facts.Methods, " ")
	if e.Facts.MFA != nil {
		mfa = strconv.FormatBool(*e.Facts.MFA)
	}
	var code, session, sid, acr, authTime string
	if d := e.FlowDetail; d != nil {
		code, session, sid, acr, amr = d.Code, d.SessionID, d.SID, d.ACR, strings.Join(d.AMR, " ")
		if !d.AuthTime.IsZero() {
			authTime = d.AuthTime.UTC().Format(time.RFC3339)
		}
	}
	num := func(n int64) string { return strconv.FormatInt(n, 10) }
	var activatedAt, reason string
	if a := e.Activation; a != nil {
		activatedAt, reason = a.ActivatedAt.UTC().Format(csvTime), a.Reason
	}
	copy(row, []string{
		r.Time.UTC().Format(csvTime), cell(r.Kind), cell(r.DecisionID), cell(r.ClientID), cell(r.Subject), cell(r.Issuer),
		cell(r.Action), cell(r.ResourceType), cell(r.ResourceID), cell(r.Outcome), string(reasons), num(r.PolicyRevision),
		mfa, cell(amr), num(r.LatencyMicros), cell(r.Actor), cell(r.RequestID),
		cell(r.ChainID), num(r.Seq), r.Hash,
		cell(r.StepUpID), cell(r.CIBAID), cell(code), cell(session), cell(sid), cell(acr), authTime,
		num(r.ID), r.PrevHash, cell(r.PolicyHash), cell(r.InputDigest), cell(string(r.Input)), cell(string(r.Detail)),
		activatedAt, cell(ActivatedByText(e.Activation)), cell(ApprovedByText(e.Activation)), cell(reason),
	})
}

// cell defuses a spreadsheet formula in a text value. Every text column
// goes through it, not only the ones a user obviously controls: ids,
// actions and claims all arrive from clients or identity providers.
func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r'", rune(v[0])) {
		return "'" + v
	}
	return v
}
