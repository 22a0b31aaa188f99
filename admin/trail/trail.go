package trail

import (
	"context"
	"errors"
	"fmt"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// Store is the part of storage.Store that reading the audit trail uses.
type Store interface {
	SearchAudit(ctx context.Context, q storage.AuditQuery) (storage.AuditPage, error)
	CountAudit(ctx context.Context, q storage.AuditQuery, bound int64) (storage.AuditCount, error)
	ExportAudit(ctx context.Context, q storage.AuditQuery, fn func(storage.AuditRecord) error) error
	VerifyAnchored(ctx context.Context, anchors storage.Anchors) (storage.VerifyReport, error)
}

// Config wires Trail.
type Config struct {
	Store Store
	// Anchoring, when set, verifies the trail against signed checkpoints
	// and makes NDJSON exports carry the latest ones.
	Anchoring *Anchoring
	// Activations names who activated each record's policy revision, and
	// why (Entry.Activation); default Store, when it lists them.
	Activations ActivationLister
}

// Trail reads the tamper-evident audit trail for people: search, one
// decision's records, export, chain verification and the admin activity
// log. The CLI and the admin UI both read through it, so an export of one
// filter is the same file whichever asked.
type Trail struct{ cfg Config }

// New validates cfg.
func New(cfg Config) (*Trail, error) {
	if cfg.Store == nil {
		return nil, errors.New("admin: trail config: Store is required")
	}
	if al, ok := cfg.Store.(ActivationLister); ok && cfg.Activations == nil {
		cfg.Activations = al
	}
	return &Trail{cfg: cfg}, nil
}

// Filter selects records: the store's query plus the MFA filter, which
// the store cannot index because it looks into the stored input.
type Filter struct {
	Query storage.AuditQuery
	// MFA is "yes" or "no" to keep only decisions whose sign-in had (or
	// lacked) MFA; "" keeps every record.
	MFA string
	// Back is true when Query.Cursor is a page's PrevCursor: an MFA
	// search that must read more store pages then reads further back.
	Back bool
}

// keeps applies the MFA filter. Only decisions have a sign-in to judge, so
// the filter leaves out admin changes and flow records; a decision without
// authentication facts had no MFA.
func (f Filter) keeps(rec storage.AuditRecord) bool {
	if f.MFA == "" {
		return true
	}
	if rec.Kind != storage.KindDecision {
		return false
	}
	fa := AuthnFactsOf(rec.Input)
	mfa := fa.MFA != nil && *fa.MFA
	return mfa == (f.MFA == "yes")
}

// SearchPage is one page of search results in the query's order.
type SearchPage struct {
	Entries []Entry
	// NextCursor continues the search; "" on the last page. PrevCursor
	// goes back (Filter.Back); "" on the first page.
	NextCursor, PrevCursor string
	// Scanned counts the records read to fill the page, which the MFA
	// filter makes larger than the page.
	Scanned int
}

// maxMFAScan bounds how many store pages one MFA-filtered page may read, so
// a rare match cannot make one request walk the whole trail.
const maxMFAScan = 20

// Search returns one page of records matching f. A cursor the store does
// not recognise is ErrInvalid: it comes from a link a person may have edited.
func (t *Trail) Search(ctx context.Context, f Filter) (SearchPage, error) {
	out, err := t.search(ctx, f)
	if err != nil {
		return out, err
	}
	tl, err := t.timeline(ctx)
	if err != nil {
		return SearchPage{}, err
	}
	for i := range out.Entries {
		tl.fill(&out.Entries[i])
	}
	return out, nil
}

func (t *Trail) search(ctx context.Context, f Filter) (SearchPage, error) {
	q := f.Query
	var out SearchPage
	for i := range maxMFAScan {
		page, err := t.cfg.Store.SearchAudit(ctx, q)
		if errors.Is(err, storage.ErrInvalid) {
			return SearchPage{}, fmt.Errorf("%w: the paging link is not valid; start the search again", admin.ErrInvalid)
		}
		if err != nil {
			return SearchPage{}, fmt.Errorf("search audit: %w", err)
		}
		out.Scanned += len(page.Records)
		var kept []Entry
		for _, r := range page.Records {
			if f.keeps(r) {
				kept = append(kept, EntryOf(r))
			}
		}
		// Reading back, each store page comes before the ones read so far.
		further := page.NextCursor
		if f.Back {
			out.Entries, further = append(kept, out.Entries...), page.PrevCursor
			out.PrevCursor = page.PrevCursor
			if i == 0 {
				out.NextCursor = page.NextCursor
			}
		} else {
			out.Entries = append(out.Entries, kept...)
			out.NextCursor = page.NextCursor
			if i == 0 {
				out.PrevCursor = page.PrevCursor
			}
		}
		if f.MFA == "" || len(out.Entries) >= q.Limit || further == "" {
			return out, nil
		}
		q.Cursor = further
	}
	return out, nil
}

// CountBound is how far Count counts exactly: a search matching more says
// "more than CountBound", so a broad search never counts the whole trail.
const CountBound = 10_000

// Count counts the records matching f's query, exactly up to CountBound.
// The MFA filter is not applied: it needs each record's input, so it is
// applied page by page (SearchPage.Scanned says how far).
func (t *Trail) Count(ctx context.Context, f Filter) (storage.AuditCount, error) {
	n, err := t.cfg.Store.CountAudit(ctx, f.Query, CountBound)
	if err != nil {
		return storage.AuditCount{}, fmt.Errorf("count audit records: %w", err)
	}
	return n, nil
}

// DecisionRecords is every record of one decision: the decision itself and
// the flow records that followed it.
type DecisionRecords struct {
	ID      string
	Entries []Entry
	// Decision is the decision record, or the first record when the
	// decision's own record is not (or no longer) stored.
	Decision *Entry
}

// Decision returns the records of decision id; storage.ErrNotFound when
// there are none.
func (t *Trail) Decision(ctx context.Context, id string) (DecisionRecords, error) {
	page, err := t.cfg.Store.SearchAudit(ctx, storage.AuditQuery{DecisionID: id, Limit: 100})
	if err != nil {
		return DecisionRecords{}, fmt.Errorf("audit records of decision %s: %w", id, err)
	}
	if len(page.Records) == 0 {
		return DecisionRecords{}, fmt.Errorf("audit records of decision %s: %w", id, storage.ErrNotFound)
	}
	tl, err := t.timeline(ctx)
	if err != nil {
		return DecisionRecords{}, err
	}
	d := DecisionRecords{ID: id, Entries: make([]Entry, len(page.Records))}
	for i, r := range page.Records {
		d.Entries[i] = EntryOf(r)
		tl.fill(&d.Entries[i])
		if r.Kind == storage.KindDecision && d.Decision == nil {
			d.Decision = &d.Entries[i]
		}
	}
	if d.Decision == nil {
		d.Decision = &d.Entries[0]
	}
	return d, nil
}
