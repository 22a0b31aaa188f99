package admin

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// AuditExporter streams audit records matching a query.
type AuditExporter interface {
	ExportAudit(ctx context.Context, q storage.AuditQuery, fn func(storage.AuditRecord) error) error
}

// Export formats.
const (
	FormatCSV    = "csv"
	FormatNDJSON = "ndjson"
)

// CSVHeader names the columns of a CSV export. Every field that the chain
// hash covers is present, so an auditor can recompute hashes offline
// (storage.CanonicalAudit documents the canonical form); input and detail
// are the exact JSON bytes that were hashed.
var CSVHeader = []string{
	"id", "chain_id", "seq", "time", "kind", "decision_id", "request_id", "client_id", "subject", "issuer",
	"action", "resource_type", "resource_id", "outcome", "reasons", "policy_revision", "policy_hash",
	"latency_micros", "input", "input_digest", "step_up_id", "ciba_id", "actor", "detail", "prev_hash", "hash",
}

// ExportAudit writes the records matching q to w as CSV or NDJSON while
// they stream from the store, so memory stays bounded whatever the size.
func ExportAudit(ctx context.Context, src AuditExporter, q storage.AuditQuery, format string, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var write func(storage.AuditRecord) error
	switch format {
	case FormatNDJSON:
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		write = func(r storage.AuditRecord) error { return enc.Encode(r) }
	case FormatCSV:
		cw := csv.NewWriter(bw)
		if err := cw.Write(CSVHeader); err != nil {
			return err
		}
		row := make([]string, len(CSVHeader))
		write = func(r storage.AuditRecord) error {
			csvRow(row, r)
			if err := cw.Write(row); err != nil {
				return err
			}
			cw.Flush()
			return cw.Error()
		}
	default:
		return fmt.Errorf("%w: export format %q: want csv or ndjson", ErrInvalid, format)
	}
	if err := src.ExportAudit(ctx, q, write); err != nil {
		return fmt.Errorf("export audit: %w", err)
	}
	return bw.Flush()
}

func csvRow(row []string, r storage.AuditRecord) {
	reasons, _ := json.Marshal(r.Reasons)
	if r.Reasons == nil {
		reasons = []byte("[]")
	}
	vals := []string{
		strconv.FormatInt(r.ID, 10), r.ChainID, strconv.FormatInt(r.Seq, 10), r.Time.UTC().Format(time.RFC3339Nano),
		r.Kind, r.DecisionID, r.RequestID, r.ClientID, r.Subject, r.Issuer, r.Action, r.ResourceType, r.ResourceID,
		r.Outcome, string(reasons), strconv.FormatInt(r.PolicyRevision, 10), r.PolicyHash,
		strconv.FormatInt(r.LatencyMicros, 10), string(r.Input), r.InputDigest, r.StepUpID, r.CIBAID, r.Actor,
		string(r.Detail), r.PrevHash, r.Hash,
	}
	copy(row, vals)
}
