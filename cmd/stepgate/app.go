package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// app is what every command shares: the store, the audit writer, the
// engine and the policy lifecycle, opened once from the configuration.
type app struct {
	cfg      Config
	log      *slog.Logger
	store    storage.Store
	audit    *audit.Writer
	engine   *policy.Engine
	policies *admin.Policies
	// anchors signs the chain heads (serve only; nil elsewhere).
	anchors *anchorRun
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// databaseURL is STEPGATE_DATABASE_URL, or the SQLite file in data_dir.
func (c Config) databaseURL() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return sqlstore.DefaultSQLiteURL(c.DataDir)
}

// chainID names this process's audit hash chain. Replicas need distinct,
// stable ids (their chains are verified independently); the host name is
// both in the usual deployments.
func (c Config) chainID() string {
	if c.Audit.ChainID != "" {
		return c.Audit.ChainID
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "stepgate"
}

func openApp(ctx context.Context, cfg Config, logOut io.Writer) (*app, error) {
	log := newLogger(cfg, logOut)
	st, err := sqlstore.Open(ctx, sqlstore.Config{URL: cfg.databaseURL(), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactURL(cfg.databaseURL()), err)
	}
	w, err := audit.NewWriter(audit.Config{
		Store: st, Mode: cfg.Audit.Mode, QueueSize: cfg.Audit.QueueSize, MaxDelay: cfg.Audit.MaxDelay,
		SyncLinger: cfg.Audit.SyncLinger, EnqueueTimeout: cfg.Audit.EnqueueTimeout, ChainID: cfg.chainID(), Logger: log,
		SpillDir: cfg.auditSpillDir(), JournalDir: cfg.auditJournalDir(), JournalBacklog: cfg.Audit.JournalBacklog,
		IndexLead: cfg.Audit.IndexLead,
	})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("start audit writer: %w", err)
	}
	a := &app{cfg: cfg, log: log, store: st, audit: w}
	a.engine = policy.NewEngine(policy.EngineConfig{Compile: policy.CompileOptions{Timeout: cfg.Decision.Timeout}, Logger: log})
	// Admin changes are appended inside their own transactions, to the
	// chain the writer appends everything else of this process to.
	rec, err := admin.NewRecorder(admin.RecorderConfig{ChainID: cfg.chainID(), Log: w})
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	a.policies, err = admin.NewPolicies(admin.PoliciesConfig{
		Store: st, Recorder: rec, Compiler: a.engine, Logger: log,
		OnActivate: func(ctx context.Context, rev storage.PolicyRevision) {
			if err := a.loadRevision(ctx, rev); err != nil {
				log.Error("activated revision did not load", "revision", rev.ID, "err", err)
			}
		},
	})
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	return a, nil
}

// close drains the audit queue, then closes the store.
func (a *app) close(ctx context.Context) error {
	var errs []error
	if a.audit != nil {
		errs = append(errs, a.audit.Close(ctx))
	}
	// After the audit queue drained, so its last records are anchored.
	if a.anchors != nil {
		errs = append(errs, a.anchors.stop(ctx))
	}
	errs = append(errs, a.store.Close())
	return errors.Join(errs...)
}

// loadRevision makes rev the engine's active policy unless it already is.
func (a *app) loadRevision(ctx context.Context, rev storage.PolicyRevision) error {
	if p := a.engine.Active(); p != nil {
		if id, hash := p.Revision(); id == rev.ID && hash == rev.Hash {
			return nil
		}
	}
	r, err := revisionOf(rev)
	if err != nil {
		return err
	}
	return a.engine.Load(ctx, r)
}

// redactURL hides a password in a database URL for error messages.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return u
	}
	return scheme + "://" + user + ":***" + rest[at:]
}
