package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

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
// Changes go through Atomic, so that each commits with its audit record.
type PolicyStore interface {
	GetRevision(ctx context.Context, id int64) (storage.PolicyRevision, error)
	ListRevisions(ctx context.Context) ([]storage.PolicyRevision, error)
	ActiveRevision(ctx context.Context) (storage.PolicyRevision, error)
	Atomic(ctx context.Context, fn func(tx storage.Store) error) error
}

// Compiler compiles a revision without activating it; *policy.Engine does.
type Compiler interface {
	Compile(ctx context.Context, rev policy.Revision) (*policy.Policy, error)
}

// PoliciesConfig wires Policies.
type PoliciesConfig struct {
	Store PolicyStore
	// Recorder records every change in the transaction that makes it, and
	// every refused push or activation.
	Recorder *Recorder
	Compiler Compiler
	// OnActivate is called after a revision became active (its transaction
	// committed), so this process swaps at once instead of waiting for its
	// revision watcher.
	OnActivate func(ctx context.Context, rev storage.PolicyRevision)
	Now        func() time.Time
	Logger     *slog.Logger
}

// Policies runs the policy lifecycle.
type Policies struct{ cfg PoliciesConfig }

// NewPolicies validates cfg.
func NewPolicies(cfg PoliciesConfig) (*Policies, error) {
	if cfg.Store == nil || cfg.Recorder == nil || cfg.Compiler == nil {
		return nil, errors.New("admin: policies config: Store, Recorder and Compiler are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Policies{cfg: cfg}, nil
}

// Recorder is the recorder Policies records with, for the other admin
// services of the same process to share (one chain per process).
func (p *Policies) Recorder() *Recorder { return p.cfg.Recorder }

// Validation is the result of checking a bundle: it compiled, and how its
// Rego tests went.
type Validation struct {
	Hash    string                `json:"hash"`
	Tests   []policies.TestResult `json:"tests"`
	Passed  int                   `json:"passed"`
	Failed  int                   `json:"failed"`
	Compile *policy.CompileError  `json:"compile_error,omitempty"`
	// Warnings are accepted but worth saying: a bundle without tests.
	Warnings []string `json:"warnings,omitempty"`
}

// NoTestsWarning is the warning for a bundle whose Rego tests are none:
// nothing checks that it decides what its author meant, and a policy that
// errors on every request activates as readily as a correct one.
const NoTestsWarning = "this bundle has no Rego tests: nothing checks that it decides what you intend (add *_test.rego files with test_ rules)"

// BundleWarnings are the warnings a bundle earns without running it: no
// test module at all. Validate adds the same warning when test modules
// hold no test that ran.
func BundleWarnings(files policy.Files) []string {
	for n := range files {
		if policy.IsTestModule(n) {
			return nil
		}
	}
	return []string{NoTestsWarning}
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
	if ran := slices.IndexFunc(results, func(r policies.TestResult) bool { return !r.Skip }); ran < 0 {
		v.Warnings = append(v.Warnings, NoTestsWarning)
	}
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
// refused; failing tests refuse activation but not the draft. The revision,
// its activation and their records commit in one transaction: when any of
// them fails, nothing is stored.
func (p *Policies) Push(ctx context.Context, actor string, files policy.Files, message string, activate bool) (storage.PolicyRevision, *Validation, error) {
	what := "policy.push"
	detail := map[string]any{"hash": files.Hash(), "message": message, "activate": activate}
	v, err := p.Validate(ctx, files)
	if errors.Is(err, ErrInvalid) {
		return storage.PolicyRevision{}, nil, p.refuse(ctx, actor, what, err, detail)
	}
	if err != nil {
		return storage.PolicyRevision{}, nil, err
	}
	detail["tests_passed"], detail["tests_failed"] = v.Passed, v.Failed
	if len(v.Warnings) > 0 {
		detail["warnings"] = v.Warnings
	}
	if v.Compile != nil {
		return storage.PolicyRevision{}, v, p.refuse(ctx, actor, what, fmt.Errorf("%w: %v", ErrInvalid, v.Compile), detail)
	}
	if activate && v.Failed > 0 {
		return storage.PolicyRevision{}, v, p.refuse(ctx, actor, what,
			fmt.Errorf("%w: %d of %d failed; the revision was not stored", ErrTestsFailed, v.Failed, len(v.Tests)), detail)
	}
	tgz, err := files.Tarball()
	if err != nil {
		return storage.PolicyRevision{}, v, err
	}
	var rev storage.PolicyRevision
	err = p.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		var err error
		rev, err = tx.CreateRevision(ctx, storage.PolicyRevision{
			Bundle: tgz, Hash: v.Hash, Author: actor, Message: message,
			State: storage.RevisionDraft, CreatedAt: p.cfg.Now(),
		})
		if err != nil {
			return fmt.Errorf("store revision: %w", err)
		}
		detail["revision"] = rev.ID
		if err := p.cfg.Recorder.Change(ctx, tx, actor, what, detail); err != nil {
			return err
		}
		if activate {
			// The bytes were validated a moment ago: activating them
			// compiles and tests nothing again.
			rev, err = p.activateTx(ctx, tx, actor, rev.ID, message, "policy.activate", nil, nil)
		}
		return err
	})
	if err != nil {
		return storage.PolicyRevision{}, v, err
	}
	if activate {
		p.activated(ctx, rev)
	}
	return rev, v, nil
}

// Activate makes revision id active after compiling it and running its tests
// again (the store might hold a revision pushed by an older version).
func (p *Policies) Activate(ctx context.Context, actor string, id int64, reason string) (storage.PolicyRevision, error) {
	return p.activate(ctx, actor, id, reason, "policy.activate", nil)
}

// activate validates revision id and makes it active, recording what with
// extra in the record's detail.
func (p *Policies) activate(ctx context.Context, actor string, id int64, reason, what string, extra map[string]any) (storage.PolicyRevision, error) {
	if err := p.checkActivatable(ctx, actor, id, reason, what, extra); err != nil {
		return storage.PolicyRevision{}, err
	}
	var rev storage.PolicyRevision
	err := p.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		var err error
		rev, err = p.activateTx(ctx, tx, actor, id, reason, what, extra, nil)
		return err
	})
	if err != nil {
		return storage.PolicyRevision{}, err
	}
	p.activated(ctx, rev)
	return rev, nil
}

// activateTx activates revision id in tx, opens its period in the
// timeline and records what there, with extra in the record's detail. A
// revision already active stays as it is, and its period open.
func (p *Policies) activateTx(ctx context.Context, tx storage.Store, actor string, id int64, reason, what string, extra map[string]any, ap *Approved) (storage.PolicyRevision, error) {
	prev, _, err := tx.ActiveRevisionID(ctx)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.PolicyRevision{}, fmt.Errorf("read active revision: %w", err)
	}
	now := p.cfg.Now()
	period := storage.RevisionActivation{RevisionID: id, Kind: storage.ActivationActivate, ActivatedAt: now,
		ActivatedBy: actor, ActivatedLabel: ActorLabelFrom(ctx), Reason: reason}
	if what == "policy.rollback" {
		period.Kind = storage.ActivationRollback
	}
	if ap != nil {
		period.ActivatedBy, period.ActivatedLabel = ap.RequestedBy, ap.RequestedLabel
		period.ApprovalID, period.ApprovedBy, period.ApprovedLabel = ap.RequestID, actor, ap.ApprovedLabel
	}
	rev, err := tx.ActivateRevision(ctx, id, period.ActivatedBy, now)
	if err != nil {
		return storage.PolicyRevision{}, fmt.Errorf("activate revision %d: %w", id, err)
	}
	if prev != id {
		if _, err := tx.AppendActivation(ctx, period); err != nil {
			return storage.PolicyRevision{}, fmt.Errorf("record activation period of revision %d: %w", id, err)
		}
	}
	detail := map[string]any{"revision": rev.ID, "hash": rev.Hash, "previous": prev, "reason": reason}
	maps.Copy(detail, extra)
	err = p.cfg.Recorder.Change(ctx, tx, actor, what, detail)
	return rev, err
}

// activated runs the in-process side effects of a committed activation.
func (p *Policies) activated(ctx context.Context, rev storage.PolicyRevision) {
	if p.cfg.OnActivate != nil {
		p.cfg.OnActivate(ctx, rev)
	}
}

// refuse records that actor's what was refused because of refusal and
// returns refusal, joined with the failure to record it if there was one.
func (p *Policies) refuse(ctx context.Context, actor string, what string, refusal error, detail map[string]any) error {
	if err := p.cfg.Recorder.Refused(ctx, actor, what, refusal.Error(), detail); err != nil {
		return errors.Join(refusal, err)
	}
	return refusal
}

// Rollback re-activates the revision that was active before the current
// one: the most recently activated revision other than the active one.
func (p *Policies) Rollback(ctx context.Context, actor string, reason string) (storage.PolicyRevision, error) {
	return p.RollbackTo(ctx, actor, reason, RollbackOptions{})
}

// RollbackOptions qualify a rollback made from a page.
type RollbackOptions struct {
	// Expect is the revision the person was shown as the target; when the
	// target is another by now (someone activated meanwhile), the rollback
	// is refused rather than made to a revision nobody reviewed. 0 skips
	// the check (the CLI); a negative Expect means no target was shown,
	// which refuses any rollback.
	Expect int64
	// Detail is recorded with the rollback, e.g. how it was authorised
	// (the admin UI's break-glass rule and the active policy's answer).
	Detail map[string]any
}

// ErrTargetMoved means the rollback target is no longer the one shown.
var ErrTargetMoved = errors.New("the revision a rollback would activate has changed")

// RollbackTo is Rollback with opts.
func (p *Policies) RollbackTo(ctx context.Context, actor, reason string, opts RollbackOptions) (storage.PolicyRevision, error) {
	detail := map[string]any{"reason": reason}
	maps.Copy(detail, opts.Detail)
	target, err := p.RollbackTarget(ctx)
	if errors.Is(err, ErrNoPrevious) {
		return storage.PolicyRevision{}, p.refuse(ctx, actor, "policy.rollback", ErrNoPrevious, detail)
	}
	if err != nil {
		return storage.PolicyRevision{}, err
	}
	if opts.Expect != 0 && opts.Expect != target.ID {
		detail["expected"], detail["revision"] = opts.Expect, target.ID
		shown := fmt.Sprintf("revision %d was shown", opts.Expect)
		if opts.Expect < 0 {
			shown = "no target was shown"
		}
		return storage.PolicyRevision{}, p.refuse(ctx, actor, "policy.rollback",
			fmt.Errorf("%w: %s, revision %d would become active; review it again", ErrTargetMoved, shown, target.ID), detail)
	}
	return p.activate(ctx, actor, target.ID, reason, "policy.rollback", opts.Detail)
}

// RollbackTarget is the revision a rollback would make active: the most
// recently activated revision other than the active one; ErrNoPrevious
// when there is none.
func (p *Policies) RollbackTarget(ctx context.Context) (storage.PolicyRevision, error) {
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
	return *target, nil
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

// Discard deletes draft revision id, which was never active, and records
// that in the same transaction. A revision that is or was active is kept
// (its bundle decided requests) and the refusal is recorded.
func (p *Policies) Discard(ctx context.Context, actor string, id int64, reason string) (storage.PolicyRevision, error) {
	const what = "policy.discard"
	detail := map[string]any{"revision": id, "reason": reason}
	var rev storage.PolicyRevision
	err := p.cfg.Store.Atomic(ctx, func(tx storage.Store) error {
		var err error
		if rev, err = tx.DeleteRevision(ctx, id); err != nil {
			return err
		}
		detail["hash"], detail["message"], detail["author"] = rev.Hash, rev.Message, rev.Author
		return p.cfg.Recorder.Change(ctx, tx, actor, what, detail)
	})
	switch {
	case errors.Is(err, storage.ErrWasActive):
		return storage.PolicyRevision{}, p.refuse(ctx, actor, what,
			fmt.Errorf("%w: revision %d is or was active; only drafts that never were can be discarded", ErrInvalid, id), detail)
	case errors.Is(err, storage.ErrNotFound):
		return storage.PolicyRevision{}, p.refuse(ctx, actor, what, fmt.Errorf("revision %d: %w", id, err), detail)
	case err != nil:
		return storage.PolicyRevision{}, fmt.Errorf("discard revision %d: %w", id, err)
	}
	return rev, nil
}
