package policy

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
)

// ErrNoPolicy means no revision has been loaded yet.
var ErrNoPolicy = errors.New("no active policy revision")

// Engine holds the active policy and swaps it atomically: evaluation takes
// no lock, and a revision that fails to compile never replaces the last good one.
type Engine struct {
	active atomic.Pointer[Policy]
	opts   CompileOptions
	log    *slog.Logger
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Compile holds the per-decision timeout; see CompileOptions.
	Compile CompileOptions
	Logger  *slog.Logger
}

// NewEngine returns an Engine with no active policy; every decision is a
// deny until Load succeeds.
func NewEngine(cfg EngineConfig) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{opts: cfg.Compile, log: cfg.Logger}
}

// Compile builds a Policy with the engine's options without activating it,
// for validation, dry runs and impact analysis.
func (e *Engine) Compile(ctx context.Context, rev Revision) (*Policy, error) {
	return Compile(ctx, rev, e.opts)
}

// Load compiles rev and makes it active. On error the previous policy stays.
// Loading the revision that is already active is a no-op.
func (e *Engine) Load(ctx context.Context, rev Revision) error {
	if cur := e.active.Load(); cur != nil && cur.rev == rev.ID && cur.hash == rev.Hash {
		return nil
	}
	p, err := e.Compile(ctx, rev)
	if err != nil {
		e.log.Error("policy revision failed to compile; keeping the active one", "revision", rev.ID, "err", err)
		return err
	}
	e.Swap(p)
	return nil
}

// Swap makes p the active policy, after specialising it for the actions the
// active one has been asked about (see specializer).
func (e *Engine) Swap(p *Policy) {
	if cur := e.active.Load(); cur != nil && cur != p {
		p.spec.warm(context.Background(), cur.spec)
	}
	old := e.active.Swap(p)
	if old == nil || old.rev != p.rev {
		e.log.Info("policy revision active", "revision", p.rev, "hash", p.hash)
	}
}

// Active returns the active policy, or nil before the first Load.
func (e *Engine) Active() *Policy { return e.active.Load() }

// Eval evaluates in against the active policy; with none loaded it denies.
func (e *Engine) Eval(ctx context.Context, in *Input) Result {
	p := e.active.Load()
	if p == nil {
		return Result{Outcome: Deny, Reasons: []string{"no policy is active"}, Err: ErrNoPolicy}
	}
	return p.Eval(ctx, in)
}

// CompileOptions are the options the engine compiles revisions with, so that
// other queries of the same revision (AuthZEN search) compile alike.
func (e *Engine) CompileOptions() CompileOptions { return e.opts }
