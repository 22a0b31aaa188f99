package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/storage"
)

// Outcomes of admin records.
const (
	// OutcomeOK is a change made or a sign-in that succeeded.
	OutcomeOK = "ok"
	// OutcomeFailed is a sign-in that failed.
	OutcomeFailed = "failed"
	// OutcomeRefused is an action refused before it changed anything: a
	// role that may not write, a bundle that does not compile, tests that
	// fail, stepgate's own policy saying no.
	OutcomeRefused = "refused"
)

// ErrUnrecorded means an admin action was not carried out (a change not
// made, a sign-in refused) because the audit trail could not record it.
var ErrUnrecorded = errors.New("the admin audit trail could not record it, so it was not done")

// unrecordedError names the action the trail could not record and why.
type unrecordedError struct {
	kind, what string
	err        error
}

func (e *unrecordedError) Error() string {
	return "record admin " + e.kind + " " + e.what + ": " + e.err.Error()
}

func (e *unrecordedError) Unwrap() []error { return []error{ErrUnrecorded, e.err} }

// LocalAdmin is the actor of the bootstrap admin, the local account
// created on first start: LocalActor(BootstrapAdmin).
const LocalAdmin = BootstrapAdmin

// LocalActor returns the actor of a local account (one signing in with a
// password): the account name itself. There is no issuer to qualify it
// with, records written before named accounts existed name the bootstrap
// admin the same way, and account names contain neither ':' nor '|', so
// no local actor looks like a "cli:", "system:" or SSO actor.
func LocalActor(name string) string { return name }

// SSOActor returns the actor of a person signed in with single sign-on:
// "ISSUER|SUBJECT" from their ID token, which the IdP guarantees to be
// unique and stable, unlike an e-mail address. Other actors are
// LocalActor for local accounts, "cli:USER" for the command line and "system:…" for stepgate.
func SSOActor(issuer, subject string) string { return issuer + "|" + subject }

type actorLabelKey struct{}

// WithActorLabel returns ctx carrying how people know the actor of the
// request (an e-mail address). Like the request id, it describes the
// request rather than the change: records keep it in Detail as
// "actor_label", and it identifies nobody (two accounts may share an
// e-mail address).
func WithActorLabel(ctx context.Context, label string) context.Context {
	return context.WithValue(ctx, actorLabelKey{}, label)
}

// ActorLabelFrom returns the label set by WithActorLabel, or "".
func ActorLabelFrom(ctx context.Context) string {
	l, _ := ctx.Value(actorLabelKey{}).(string)
	return l
}

// AuditAppender appends records inside a store transaction; the store
// passed to storage.Store's Atomic function is one.
type AuditAppender interface {
	AppendAudit(ctx context.Context, recs []storage.AuditRecord) error
}

// AuditLog durably records admin events that change nothing in the store,
// such as sign-ins and refusals: the audit writer in sync mode.
type AuditLog interface {
	Write(ctx context.Context, rec storage.AuditRecord) error
}

// RecorderConfig wires a Recorder.
type RecorderConfig struct {
	// ChainID is the hash chain admin changes are appended to. It must be
	// the chain of Log (the process's audit writer), so that one process
	// keeps one chain. Required.
	ChainID string
	// Log writes the records of events that change nothing. Required.
	Log AuditLog
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Recorder writes the admin part of the audit trail. A change is recorded
// with Change inside the store transaction that makes it, so that the
// change and its record commit together or not at all; an event that
// changes nothing in the store (a sign-in, a sign-out, a refusal) is
// recorded with Event through the audit writer.
type Recorder struct{ cfg RecorderConfig }

// NewRecorder validates cfg.
func NewRecorder(cfg RecorderConfig) (*Recorder, error) {
	if cfg.ChainID == "" || cfg.Log == nil {
		return nil, errors.New("admin: recorder config: ChainID and Log are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Recorder{cfg: cfg}, nil
}

// Change appends the record of change what, made by actor, to tx, the
// transaction that makes the change. Its error must abort the transaction.
func (r *Recorder) Change(ctx context.Context, tx AuditAppender, actor string, what string, detail map[string]any) error {
	rec, err := r.record(ctx, actor, what, OutcomeOK, "", detail)
	if err != nil {
		return err
	}
	rec.ChainID = r.cfg.ChainID
	if err := tx.AppendAudit(ctx, []storage.AuditRecord{rec}); err != nil {
		return &unrecordedError{kind: "change", what: what, err: err}
	}
	return nil
}

// Event records what that changed nothing in the store, with its outcome
// and, unless it succeeded, why (reason).
func (r *Recorder) Event(ctx context.Context, actor string, what, outcome, reason string, detail map[string]any) error {
	rec, err := r.record(ctx, actor, what, outcome, reason, detail)
	if err != nil {
		return err
	}
	if err := r.cfg.Log.Write(ctx, rec); err != nil {
		return &unrecordedError{kind: "event", what: what, err: err}
	}
	return nil
}

// Refused records that what was refused, and why.
func (r *Recorder) Refused(ctx context.Context, actor string, what, reason string, detail map[string]any) error {
	return r.Event(ctx, actor, what, OutcomeRefused, reason, detail)
}

// record builds a KindAdmin record. Detail names the change ("change"),
// the actor's label ("actor_label") and, for a failure or refusal, the
// reason ("error", also the record's Reasons).
func (r *Recorder) record(ctx context.Context, actor string, what, outcome, reason string, detail map[string]any) (storage.AuditRecord, error) {
	d := make(map[string]any, len(detail)+3)
	for k, v := range detail {
		d[k] = v
	}
	d["change"] = what
	if l := ActorLabelFrom(ctx); l != "" && l != actor {
		d["actor_label"] = l
	}
	rec := storage.AuditRecord{
		Time: r.cfg.Now(), Kind: storage.KindAdmin, Actor: actor, Action: what, Outcome: outcome,
		RequestID: pdp.RequestIDFrom(ctx),
	}
	if reason != "" {
		d["error"] = reason
		rec.Reasons = []string{reason}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return storage.AuditRecord{}, fmt.Errorf("encode admin audit detail of %s: %w", what, err)
	}
	rec.Detail = b
	return rec, nil
}
