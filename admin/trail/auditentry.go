package trail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/storage"
)

// AuthnFacts are the authentication facts of a decision's stored input:
// what auditors ask first ("was that payment made with MFA?").
type AuthnFacts struct {
	// MFA is nil when the input had no authentication facts.
	MFA     *bool
	Methods []string
	// Age is how many seconds before the decision the user signed in.
	Age *int64
}

// MFAText is "yes" or "no", or "" when the input had no authentication
// facts. Templates use it instead of MFA: html/template's if is true for
// any non-nil pointer, so {{if .MFA}} would call a password sign-in MFA.
func (f AuthnFacts) MFAText() string {
	switch {
	case f.MFA == nil:
		return ""
	case *f.MFA:
		return "yes"
	}
	return "no"
}

// AuthnFactsOf reads the authentication facts of a stored input; an input
// without them (or not JSON) has none.
func AuthnFactsOf(input []byte) AuthnFacts {
	var in struct {
		Subject struct {
			Authn *struct {
				Methods []string `json:"methods"`
				MFA     bool     `json:"mfa"`
				Age     *int64   `json:"age"`
			} `json:"authn"`
		} `json:"subject"`
	}
	if len(input) == 0 || json.Unmarshal(input, &in) != nil || in.Subject.Authn == nil {
		return AuthnFacts{}
	}
	a := in.Subject.Authn
	return AuthnFacts{MFA: &a.MFA, Methods: a.Methods, Age: a.Age}
}

// Entry is one record with the facts read out of its opaque JSON: the
// sign-in facts of a decision, or the detail of a flow record.
type Entry struct {
	Rec   storage.AuditRecord
	Facts AuthnFacts
	// FlowDetail is set for flow records (step-up, CIBA, session).
	FlowDetail *storage.FlowDetail
	// Admin is set for admin records: the change's target and reason.
	Admin *AdminFacts
	// Activation is the period of the record's policy revision in effect
	// when it was made: who activated the revision (and approved it), and
	// why. Set by Trail's search, decision and export; nil when unknown.
	Activation *storage.RevisionActivation
}

// EntryOf reads the facts of r.
func EntryOf(r storage.AuditRecord) Entry {
	e := Entry{Rec: r, Facts: AuthnFactsOf(r.Input)}
	if d, ok := storage.FlowDetailOf(r); ok {
		e.FlowDetail = &d
	}
	if r.Kind == storage.KindAdmin {
		f := AdminFactsOf(r)
		e.Admin = &f
	}
	return e
}

// ActivityEntry is one admin change: who, what, on which target and why.
type ActivityEntry struct {
	Rec storage.AuditRecord
	AdminFacts
}

// ActivityPage is one page of admin changes, newest first.
type ActivityPage struct {
	Entries    []ActivityEntry
	NextCursor string
}

// AdminActivity returns one page of admin changes, continuing at cursor.
func (t *Trail) AdminActivity(ctx context.Context, cursor string) (ActivityPage, error) {
	page, err := t.cfg.Store.SearchAudit(ctx, storage.AuditQuery{Kind: storage.KindAdmin, Limit: 50, Cursor: cursor})
	if errors.Is(err, storage.ErrInvalid) {
		return ActivityPage{}, fmt.Errorf("%w: the paging link is not valid", admin.ErrInvalid)
	}
	if err != nil {
		return ActivityPage{}, fmt.Errorf("admin activity: %w", err)
	}
	out := ActivityPage{NextCursor: page.NextCursor, Entries: make([]ActivityEntry, len(page.Records))}
	for i, r := range page.Records {
		out.Entries[i] = ActivityEntry{Rec: r, AdminFacts: AdminFactsOf(r)}
	}
	return out, nil
}
