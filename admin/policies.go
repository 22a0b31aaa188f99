package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
)

// Errors callers branch on.
var (
	// ErrInvalid wraps every validation failure; the message is for the user.
	ErrInvalid = errors.New("invalid")
	// ErrTestsFailed means a bundle's Rego tests did not all pass.
	ErrTestsFailed = errors.New("policy tests failed")
	// ErrNoPrevious means there is no earlier revision to roll back to.
	ErrNoPrevious = errors.New("no earlier revision to roll back to")
)

// PolicyStore is the part of storage.Store the policy lifecycle uses.
type PolicyStore interface {
	CreateRevision(ctx context.Context, r storage.PolicyRevision) (storage.PolicyRevision, error)
	GetRevision(ctx context.Context, id int64) (storage.PolicyRevision, error)
	ListRevisions(ctx context.Context) ([]storage.PolicyRevision, error)
	ActiveRevision(ctx context.Context) (storage.PolicyRevision, error)
	ActivateRevision(ctx context.Context, id int64, actor string, at time.Time) (storage.PolicyRevision, error)
}

// AuditLog durably records admin changes (the audit writer in sync mode).
type AuditLog interface {
	Write(ctx context.Context, rec storage.AuditRecord) error
}

// Compiler compiles a revision without activating it; *policy.Engine does.
type Compiler interface {
	Compile(ctx context.Context, rev policy.Revision) (*policy.Policy, error)
}

// PoliciesConfig wires Policies.
type PoliciesConfig struct {
	Store    PolicyStore
	Audit    AuditLog
	Compiler Compiler
	// OnActivate is called after a revision became active, so this process
	// swaps at once instead of waiting for its revision watcher.
	OnActivate func(ctx context.Context, rev storage.PolicyRevision)
	Now        func() time.Time
	Logger     *slog.Logger
}

// Policies runs the policy lifecycle.
type Policies struct{ cfg PoliciesConfig }

// NewPolicies validates cfg.
func NewPolicies(cfg PoliciesConfig) (*Policies, error) {
	if cfg.Store == nil || cfg.Audit == nil || cfg.Compiler == nil {
		return nil, errors.New("admin: policies config: Store, Audit and Compiler are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Policies{cfg: cfg}, nil
}

// Validation is the result of checking a bundle: it compiled, and how its
// Rego tests went.
type Validation struct {
	Hash    string                `json:"hash"`
	Tests   []policies.TestResult `json:"tests"`
	Passed  int                   `json:"passed"`
	Failed  int                   `json:"failed"`
	Compile *policy.CompileError  `json:"compile_error,omitempty"`
}

// OK reports whether the bundle compiled and every test passed.
func (v *Validation) OK() bool { return v.Compile == nil && v.Failed == 0 }

// Validate compiles files and runs their Rego tests. A bundle that does not
// compile is reported in Validation.Compile, not as an error; the error is
// for failures to validate at all.
func (p *Policies) Validate(ctx context.Context, files policy.Files) (*Validation, error) {
	v := &Validation{Hash: files.Hash()}
	if err := files.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if _, err := p.cfg.Compiler.Compile(ctx, policy.Revision{Hash: v.Hash, Files: files}); err != nil {
		var ce *policy.CompileError
		if errors.As(err, &ce) {
			v.Compile = ce
			return v, nil
		}
		return nil, fmt.Errorf("compile bundle: %w", err)
	}
	results, err := policies.RunTests(ctx, files.FS())
	if err != nil {
		var ce *policy.CompileError
		if errors.As(err, &ce) {
			v.Compile = ce
			return v, nil
		}
		v.Compile = &policy.CompileError{Err: err, Issues: []policy.CompileIssue{{Message: err.Error()}}}
		return v, nil
	}
	v.Tests = results
	for _, r := range results {
		switch {
		case r.Pass:
			v.Passed++
		case r.Fail || r.Error != "":
			v.Failed++
		}
	}
	return v, nil
}

// Push stores files as a new draft revision after validating them, and
// activates it when activate is set. A bundle that does not compile is
// refused; failing tests refuse activation but not the draft.
func (p *Policies) Push(ctx context.Context, actor string, files policy.Files, message string, activate bool) (storage.PolicyRevision, *Validation, error) {
	v, err := p.Validate(ctx, files)
	if err != nil {
		return storage.PolicyRevision{}, nil, err
	}
	if v.Compile != nil {
		return storage.PolicyRevision{}, v, fmt.Errorf("%w: %v", ErrInvalid, v.Compile)
	}
	if activate && v.Failed > 0 {
		return storage.PolicyRevision{}, v, fmt.Errorf("%w: %d of %d failed; the revision was not stored", ErrTestsFailed, v.Failed, len(v.Tests))
	}
	tgz, err := files.Tarball()
	if err != nil {
		return storage.PolicyRevision{}, v, err
	}
	rev, err := p.cfg.Store.CreateRevision(ctx, storage.PolicyRevision{
		Bundle: tgz, Hash: v.Hash, Author: actor, Message: message,
		State: storage.RevisionDraft, CreatedAt: p.cfg.Now(),
	})
	if err != nil {
		return storage.PolicyRevision{}, v, fmt.Errorf("store revision: %w", err)
	}
	if err := p.audit(ctx, actor, "policy.push", "ok", map[string]any{
		"revision": rev.ID, "hash": rev.Hash, "message": message, "tests_passed": v.Passed, "tests_failed": v.Failed,
	}); err != nil {
		return rev, v, err
	}
	if activate {
		// The bytes were validated a moment ago: activating them compiles
		// and tests nothing again.
		rev, err = p.activate(ctx, actor, rev.ID, message, "policy.activate", v)
	}
	return rev, v, err
}

// Activate makes revision id active after compiling it and running its tests
// again (the store might hold a revision pushed by an older version).
func (p *Policies) Activate(ctx context.Context, actor string, id int64, reason string) (storage.PolicyRevision, error) {
	return p.activate(ctx, actor, id, reason, "policy.activate", nil)
}

// activate makes revision id active. validated, when set, is the
// validation of exactly the revision's bytes (same hash), just made by
// Push; otherwise the revision is compiled and tested here.
func (p *Policies) activate(ctx context.Context, actor string, id int64, reason, what string, validated *Validation) (storage.PolicyRevision, error) {
	rev, err := p.cfg.Store.GetRevision(ctx, id)
	if err != nil {
		return storage.PolicyRevision{}, fmt.Errorf("revision %d: %w", id, err)
	}
	v := validated
	if v == nil || v.Hash != rev.Hash {
		files, err := policy.ReadTarball(rev.Bundle)
		if err != nil {
			return storage.PolicyRevision{}, fmt.Errorf("revision %d: %w", id, err)
		}
		if v, err = p.Validate(ctx, files); err != nil {
			return storage.PolicyRevision{}, err
		}
	}
	if v.Compile != nil {
		return storage.PolicyRevision{}, fmt.Errorf("%w: revision %d: %v", ErrInvalid, id, v.Compile)
	}
	if v.Failed > 0 {
		return storage.PolicyRevision{}, fmt.Errorf("%w: revision %d: %d of %d failed", ErrTestsFailed, id, v.Failed, len(v.Tests))
	}
	prev, _ := p.cfg.Store.ActiveRevision(ctx)
	rev, err = p.cfg.Store.ActivateRevision(ctx, id, actor, p.cfg.Now())
	if err != nil {
		return storage.PolicyRevision{}, fmt.Errorf("activate revision %d: %w", id, err)
	}
	if err := p.audit(ctx, actor, what, "ok", map[string]any{
		"revision": rev.ID, "hash": rev.Hash, "previous": prev.ID, "reason": reason,
	}); err != nil {
		return rev, err
	}
	if p.cfg.OnActivate != nil {
		p.cfg.OnActivate(ctx, rev)
	}
	return rev, nil
}

// Rollback re-activates the revision that was active before the current
// one: the most recently activated revision other than the active one.
func (p *Policies) Rollback(ctx context.Context, actor, reason string) (storage.PolicyRevision, error) {
	list, err := p.cfg.Store.ListRevisions(ctx)
	if err != nil {
		return storage.PolicyRevision{}, fmt.Errorf("list revisions: %w", err)
	}
	var target *storage.PolicyRevision
	for i := range list {
		r := &list[i]
		if r.State == storage.RevisionActive || r.ActivatedAt == nil {
			continue
		}
		if target == nil || r.ActivatedAt.After(*target.ActivatedAt) {
			target = r
		}
	}
	if target == nil {
		return storage.PolicyRevision{}, ErrNoPrevious
	}
	return p.activate(ctx, actor, target.ID, reason, "policy.rollback", nil)
}

// List returns every revision, newest first, without bundles.
func (p *Policies) List(ctx context.Context) ([]storage.PolicyRevision, error) {
	return p.cfg.Store.ListRevisions(ctx)
}

// Files returns the bundle of revision id.
func (p *Policies) Files(ctx context.Context, id int64) (storage.PolicyRevision, policy.Files, error) {
	rev, err := p.cfg.Store.GetRevision(ctx, id)
	if err != nil {
		return rev, nil, fmt.Errorf("revision %d: %w", id, err)
	}
	files, err := policy.ReadTarball(rev.Bundle)
	return rev, files, err
}

// ActiveActions lists the action names of the active revision's
// requirements table, which search forms offer as suggestions.
func (p *Policies) ActiveActions(ctx context.Context) ([]string, error) {
	rev, err := p.cfg.Store.ActiveRevision(ctx)
	if err != nil {
		return nil, fmt.Errorf("active revision: %w", err)
	}
	_, files, err := p.Files(ctx, rev.ID)
	if err != nil {
		return nil, err
	}
	rules, _, err := ReadActions(files)
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.Name
	}
	return names, err
}

func (p *Policies) audit(ctx context.Context, actor, what, outcome string, detail map[string]any) error {
	return writeAdminAudit(ctx, p.cfg.Audit, p.cfg.Now(), actor, what, outcome, detail)
}

// writeAdminAudit records one admin change.
func writeAdminAudit(ctx context.Context, log AuditLog, now time.Time, actor, what, outcome string, detail map[string]any) error {
	detail["change"] = what
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode admin audit detail: %w", err)
	}
	rec := storage.AuditRecord{
		Time: now, Kind: storage.KindAdmin, Actor: actor, Action: what, Outcome: outcome, Detail: b,
		RequestID: pdp.RequestIDFrom(ctx),
	}
	if err := log.Write(ctx, rec); err != nil {
		return fmt.Errorf("record admin change %s: %w", what, err)
	}
	return nil
}
