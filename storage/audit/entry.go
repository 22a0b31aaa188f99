package audit

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/stepgate/stepgate/storage"
)

// encodeEntry appends the journal payload of one record, chain and time
// already stamped: the record as JSON with storage.AuditRecord's field
// names, exactly the bytes json.Marshal(r) produces (entries written before
// this encoder existed, by json.Marshal, are the same format, and
// TestEntryEncodingMatchesJSON holds the two together). It is built without
// reflection because it runs on the request path for every record.
func encodeEntry(b []byte, r *storage.AuditRecord) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, `,"chain_id":`...)
	b = appendJSONString(b, r.ChainID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, `,"time":"`...)
	b, err := r.Time.AppendText(b)
	if err != nil {
		return b, fmt.Errorf("audit: journal: encode record time: %w", err)
	}
	b = append(b, `","kind":`...)
	b = appendJSONString(b, r.Kind)
	b = appendOptString(b, `,"decision_id":`, r.DecisionID)
	b = appendOptString(b, `,"request_id":`, r.RequestID)
	b = appendOptString(b, `,"client_id":`, r.ClientID)
	b = appendOptString(b, `,"subject":`, r.Subject)
	b = appendOptString(b, `,"issuer":`, r.Issuer)
	b = appendOptString(b, `,"action":`, r.Action)
	b = appendOptString(b, `,"resource_type":`, r.ResourceType)
	b = appendOptString(b, `,"resource_id":`, r.ResourceID)
	b = appendOptString(b, `,"outcome":`, r.Outcome)
	if len(r.Reasons) > 0 {
		b = append(b, `,"reasons":[`...)
		for i, s := range r.Reasons {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	b = appendOptInt(b, `,"policy_revision":`, r.PolicyRevision)
	b = appendOptString(b, `,"policy_hash":`, r.PolicyHash)
	b = appendOptInt(b, `,"latency_micros":`, r.LatencyMicros)
	b = appendOptBytes(b, `,"input":`, r.Input)
	b = appendOptString(b, `,"input_digest":`, r.InputDigest)
	b = appendOptString(b, `,"step_up_id":`, r.StepUpID)
	b = appendOptString(b, `,"ciba_id":`, r.CIBAID)
	b = appendOptString(b, `,"actor":`, r.Actor)
	b = appendOptBytes(b, `,"detail":`, r.Detail)
	b = append(b, `,"prev_hash":`...)
	b = appendJSONString(b, r.PrevHash)
	b = append(b, `,"hash":`...)
	b = appendJSONString(b, r.Hash)
	return append(b, '}'), nil
}

// decodeEntry reads a journal entry encodeEntry wrote (or json.Marshal,
// before it).
func decodeEntry(b []byte) (storage.AuditRecord, error) {
	var r storage.AuditRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("audit: journal: decode entry: %w", err)
	}
	return r, nil
}

// appendOptString, appendOptInt and appendOptBytes write an omitempty
// field: nothing for the zero value.
func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

func appendOptInt(b []byte, key string, n int64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), n, 10)
}

// appendOptBytes writes p as encoding/json does a []byte: standard base64
// in quotes.
func appendOptBytes(b []byte, key string, p []byte) []byte {
	if len(p) == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

// appendJSONString writes s as a JSON string the way encoding/json does.
// Printable ASCII that encoding/json leaves alone (everything but the
// quote, the backslash and its HTML escapes <, > and &) is copied; any
// other string, rare in a record, goes through encoding/json itself, so
// its escaping rules (control characters, invalid UTF-8, U+2028) are
// never restated here.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
