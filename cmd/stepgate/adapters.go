package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/flow"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/storage"
)

// The adapters below let pdp run on storage without either importing the
// other: pdp declares small interfaces, storage has plain types, and this
// file converts between them.

// transactionStore adapts storage.Store to pdp.TransactionStore.
type transactionStore struct{ s storage.Store }

func (t transactionStore) CreateStepUp(ctx context.Context, tx stepup.Transaction) error {
	req, err := json.Marshal(tx.Requirements)
	if err != nil {
		return fmt.Errorf("encode requirements: %w", err)
	}
	return t.s.CreateStepUp(ctx, storage.StepUpTransaction{
		ID: tx.ID, ClientID: tx.ClientID, Issuer: tx.Issuer, ClientAppID: tx.AppClientID,
		State: tx.State, Nonce: tx.Nonce, CodeVerifier: tx.CodeVerifier, DecisionID: tx.DecisionID,
		Subject: tx.Subject, ReturnTo: tx.ReturnTo, Action: tx.Action, Requirements: req,
		IssuedAt: tx.IssuedAt, ExpiresAt: tx.ExpiresAt,
	})
}

func (t transactionStore) ConsumeStepUp(ctx context.Context, id, clientID string, now time.Time) (stepup.Transaction, error) {
	st, err := t.s.ConsumeStepUp(ctx, id, clientID, now)
	var refused error
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return stepup.Transaction{}, stepup.ErrTransactionNotFound
	case errors.Is(err, storage.ErrUsed):
		refused = stepup.ErrTransactionUsed
	case errors.Is(err, storage.ErrExpired):
		refused = stepup.ErrTransactionExpired
	case err != nil:
		return stepup.Transaction{}, err
	}
	tx := stepup.Transaction{
		ID: st.ID, ClientID: st.ClientID, Issuer: st.Issuer, AppClientID: st.ClientAppID,
		State: st.State, Nonce: st.Nonce, CodeVerifier: st.CodeVerifier, DecisionID: st.DecisionID,
		Subject: st.Subject, ReturnTo: st.ReturnTo, Action: st.Action,
		IssuedAt: st.IssuedAt, ExpiresAt: st.ExpiresAt,
	}
	if len(st.Requirements) > 0 {
		if err := json.Unmarshal(st.Requirements, &tx.Requirements); err != nil {
			return stepup.Transaction{}, fmt.Errorf("decode requirements of transaction %s: %w", id, err)
		}
	}
	return tx, refused
}

// clientLookup adapts storage.Store to pdp.ClientLookup.
type clientLookup struct {
	s   storage.Store
	now func() time.Time
}

func (c clientLookup) ClientByKeyHash(ctx context.Context, hash string) (clientauth.Client, error) {
	cl, err := c.s.ClientByKeyHash(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return clientauth.Client{}, clientauth.ErrUnauthenticated
	}
	if err != nil {
		return clientauth.Client{}, err
	}
	if cl.Disabled {
		return clientauth.Client{}, clientauth.ErrUnauthenticated
	}
	out := clientauth.Client{ID: cl.ID, AssertClaims: cl.AssertClaims, ReturnTo: cl.ReturnTo}
	if hash != cl.KeyHash {
		// The previous key of a rotation: valid only within its overlap.
		if !cl.PreviousKeyValid(c.now()) {
			return clientauth.Client{}, clientauth.ErrUnauthenticated
		}
		out.PreviousKey, out.KeyExpiresAt = true, *cl.PreviousKeyExpiresAt
	}
	return out, nil
}

// clientUse adapts storage.Store to clientauth.UseRecorder.
type clientUse struct{ s storage.Store }

func (c clientUse) RecordUse(ctx context.Context, uses []clientauth.Use) error {
	out := make([]storage.ClientUse, len(uses))
	for i, u := range uses {
		out[i] = storage.ClientUse{ClientID: u.ClientID, Previous: u.Previous, At: u.At}
	}
	return c.s.RecordClientUse(ctx, out)
}

// recordWriter is the audit writer as the decision path sees it.
type recordWriter interface {
	Write(ctx context.Context, rec storage.AuditRecord) error
	WriteBatch(ctx context.Context, recs []storage.AuditRecord) error
}

// auditSink adapts the audit writer to pdp.AuditSink.
type auditSink struct{ w recordWriter }

func (a auditSink) Record(ctx context.Context, events []pdp.AuditEvent) error {
	recs := make([]storage.AuditRecord, len(events))
	for i, e := range events {
		recs[i] = storage.AuditRecord{
			Time: e.Time, Kind: storage.KindDecision, DecisionID: e.DecisionID, RequestID: e.RequestID,
			ClientID: e.ClientID, Subject: e.Subject, Issuer: e.Issuer, Action: e.Action,
			ResourceType: e.ResourceType, ResourceID: e.ResourceID, Outcome: string(e.Outcome),
			Reasons: e.Reasons, PolicyRevision: e.PolicyRevision, PolicyHash: e.PolicyHash,
			LatencyMicros: e.Latency.Microseconds(), Input: e.Input, InputDigest: e.InputDigest,
			StepUpID: e.StepUpID, CIBAID: e.CIBAID,
		}
	}
	if len(recs) == 1 {
		return a.w.Write(ctx, recs[0])
	}
	// Queued back to back, the writer's group commit puts a batch's records
	// in one transaction.
	return a.w.WriteBatch(ctx, recs)
}

// Announce forwards the decision path's announcements to a writer that
// groups commits (audit.Writer in sync mode).
func (a auditSink) Announce() (release func()) {
	if an, ok := a.w.(pdp.AuditAnnouncer); ok {
		return an.Announce()
	}
	return func() {}
}

// revisionOf converts a stored revision to the engine's form.
func revisionOf(r storage.PolicyRevision) (policy.Revision, error) {
	files, err := policy.ReadTarball(r.Bundle)
	if err != nil {
		return policy.Revision{}, fmt.Errorf("revision %d: %w", r.ID, err)
	}
	return policy.Revision{ID: r.ID, Hash: r.Hash, Files: files}, nil
}

// flowSink adapts the audit writer to pdp.Auditor: step-up
// verifications, CIBA transitions, session elevations, revocations and
// logouts, each linked to the decision that started them. What the
// record's columns cannot hold goes into Detail as a storage.FlowDetail.
type flowSink struct{ w recordWriter }

func (f flowSink) RecordFlow(ctx context.Context, ev flow.Event) error {
	kind := storage.KindCIBA
	switch ev.Kind {
	case flow.KindSession:
		kind = storage.KindSession
	case flow.KindStepUp:
		kind = storage.KindStepUp
	}
	d := storage.FlowDetail{SessionID: ev.SessionID, SID: ev.SID, Code: ev.Code}
	if ev.Proof != nil {
		d.ACR, d.AMR, d.AuthTime = ev.Proof.ACR, ev.Proof.AMR, ev.Proof.AuthTime.UTC()
	}
	var detail []byte
	if d.SessionID != "" || d.SID != "" || d.Code != "" || ev.Proof != nil {
		var err error
		if detail, err = json.Marshal(d); err != nil {
			return fmt.Errorf("encode flow detail: %w", err)
		}
	}
	return f.w.Write(ctx, storage.AuditRecord{
		Time: ev.Time, Kind: kind, DecisionID: ev.DecisionID, RequestID: pdp.RequestIDFrom(ctx),
		ClientID: ev.ClientID, Subject: ev.Subject, Issuer: ev.Issuer, Action: ev.Action,
		Outcome: ev.Outcome, Reasons: ev.Reasons, CIBAID: ev.CIBAID, StepUpID: ev.StepUpID, Detail: detail,
	})
}
