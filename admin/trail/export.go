package trail

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// Format is the file format of an audit export.
type Format string

// Export formats. NDJSON is for machines and offline verification: its
// first lines are the latest signed checkpoints ({"checkpoint": {…}}, see
// package anchor), then each line decodes as a storage.AuditRecord, input
// and detail the exact hashed bytes (base64), so VerifyExport recomputes
// every hash and checks the records against the checkpoints; the same
// documents as JSON ride alongside for reading (input_json, detail_json).
// CSV is for people and spreadsheets (see CSVHeader) and carries no
// checkpoints.
const (
	FormatCSV    Format = "csv"
	FormatNDJSON Format = "ndjson"
)

// ParseFormat reads "csv" or "ndjson".
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatCSV, FormatNDJSON:
		return f, nil
	}
	return "", fmt.Errorf("%w: export format %q: want csv or ndjson", admin.ErrInvalid, s)
}

// ContentType is the media type of an export in format f.
func (f Format) ContentType() string {
	if f == FormatCSV {
		return "text/csv; charset=utf-8"
	}
	return "application/x-ndjson"
}

// Export writes every record matching f to w, newest first (or in chain
// order when f.Query.ChainOrder is set), while the records stream from the
// store, so memory stays bounded whatever the size. The paging cursor and
// limit of f.Query are ignored: an export is the whole result of a filter,
// whichever page a person was looking at.
//
// The CLI's `stepgate audit export` and the admin UI's export link both
// call it, so the same filter gives the same bytes from either. Once a
// record is written an error can only cut the stream short; callers that
// already sent a status log it.
func (t *Trail) Export(ctx context.Context, f Filter, format Format, w io.Writer) error {
	tl, err := t.timeline(ctx)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var write func(Entry) error
	switch format {
	case FormatNDJSON:
		enc := json.NewEncoder(bw)
		// The exact bytes matter more than HTML safety in a download.
		enc.SetEscapeHTML(false)
		write = func(e Entry) error {
			l := ndjsonLineOf(e.Rec)
			l.RevisionActivation = activationLineOf(e.Activation)
			return enc.Encode(l)
		}
		// The checkpoints come first, read before the records stream, so
		// they cover the records up to them and a verifier can anchor the
		// walk as it reads (VerifyExport).
		for _, c := range t.exportCheckpoints() {
			if err := enc.Encode(checkpointLine{Checkpoint: &c}); err != nil {
				return err
			}
		}
	case FormatCSV:
		cw := csv.NewWriter(bw)
		if err := cw.Write(CSVHeader); err != nil {
			return err
		}
		row := make([]string, len(CSVHeader))
		write = func(e Entry) error {
			csvRow(row, e)
			if err := cw.Write(row); err != nil {
				return err
			}
			// Flush into bw each row, so the csv.Writer holds no rows.
			cw.Flush()
			return cw.Error()
		}
	default:
		return fmt.Errorf("%w: export format %q: want csv or ndjson", admin.ErrInvalid, format)
	}
	q := f.Query
	q.Cursor, q.Limit = "", 0
	err = t.cfg.Store.ExportAudit(ctx, q, func(r storage.AuditRecord) error {
		if !f.keeps(r) {
			return nil
		}
		e := EntryOf(r)
		tl.fill(&e)
		return write(e)
	})
	if err != nil {
		return fmt.Errorf("export audit: %w", err)
	}
	return bw.Flush()
}

// ndjsonLine is one NDJSON line. Input and Detail stay base64, because
// they are hashed byte for byte and JSON re-encoding could change them;
// InputJSON and DetailJSON repeat them as JSON so that a person or a log
// pipeline can read the input without decoding base64. RevisionActivation
// says who activated the record's policy revision and why. A verifier
// ignores them.
type ndjsonLine struct {
	storage.AuditRecord
	InputJSON          json.RawMessage `json:"input_json,omitempty"`
	DetailJSON         json.RawMessage `json:"detail_json,omitempty"`
	RevisionActivation *activationLine `json:"revision_activation,omitempty"`
}

// ndjsonLineOf repeats r's documents as JSON where they are JSON; a
// document that is not (never written by stepgate) is left to the base64.
func ndjsonLineOf(r storage.AuditRecord) ndjsonLine {
	l := ndjsonLine{AuditRecord: r}
	if json.Valid(r.Input) {
		l.InputJSON = r.Input
	}
	if json.Valid(r.Detail) {
		l.DetailJSON = r.Detail
	}
	return l
}
