package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/authzen"
	"github.com/stepgate/stepgate/pdp/ciba"
	"github.com/stepgate/stepgate/pdp/ciba/enrollment"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/livestats"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdpmetrics"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/storage"
)

// shutdownGrace bounds how long in-flight requests may take after SIGTERM.
const shutdownGrace = 15 * time.Second

// serve runs both listeners until ctx is cancelled, then stops accepting,
// lets in-flight requests finish, drains the audit queue and closes the
// store — so every acknowledged decision is recorded.
func serve(ctx context.Context, cfg Config, env func(string) string, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := a.close(dctx); err != nil {
			a.log.Error("shutdown", "err", err)
		}
	}()
	if err := bootstrap(ctx, a.store, a.policies, cfg, env, stdout); err != nil {
		return err
	}
	rev, err := a.store.ActiveRevision(ctx)
	if err != nil {
		return fmt.Errorf("read active revision: %w", err)
	}
	if err := a.loadRevision(ctx, rev); err != nil {
		return fmt.Errorf("load active revision %d: %w", rev.ID, err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, err := pdpmetrics.New(reg)
	if err != nil {
		return err
	}
	if err := reg.Register(auditCollector{a.audit}); err != nil {
		return err
	}
	if cfg.checkpointsOn() {
		if err := a.startAnchors(env, stdout); err != nil {
			return err
		}
		if err := reg.Register(anchorCollector{a.anchors}); err != nil {
			return err
		}
	} else {
		a.log.Warn("audit checkpoints are off: the trail is not anchored outside the database")
	}
	verifier, err := trust.NewVerifier(trust.VerifierConfig{Issuers: cfg.Issuers, Leeway: cfg.Decision.TokenLeeway, Logger: a.log})
	if err != nil {
		return err
	}
	enrolled, err := enrollment.NewIssuers(verifier.Issuers(), enrollment.Options{Observer: metrics, Logger: a.log})
	if err != nil {
		return err
	}
	ready, err := a.newReadiness()
	if err != nil {
		return err
	}
	live := livestats.New(nil)
	offers := cibaOfferStore{Backend: a.store}
	elevations := elevationStore{Backend: a.store}
	flows := flowSink{a.audit}
	logouts, err := a.openLogouts(ctx)
	if err != nil {
		return err
	}
	svc, err := pdp.NewService(pdp.ServiceConfig{
		Engine: a.engine, Verifier: verifier, Transactions: transactionStore{a.store},
		CIBAOffers: offers, Elevations: elevations, Logouts: logouts, Flows: flows, Enrollment: enrolled,
		Audit: auditSink{a.audit}, Observer: observers{metrics, ready, live}, StepUpTTL: cfg.Decision.StepUpTTL,
		CIBARequestedExpiry: cfg.Decision.CIBARequestedExpiry, RedactClaims: cfg.Audit.redactPaths(), Logger: a.log,
	})
	if err != nil {
		return err
	}
	clients := clientauth.NewAuthenticator(clientLookup{a.store, time.Now}, 0, nil)
	decisionAPI, err := pdphttp.New(pdphttp.Config{
		Service: svc, Clients: clients, MaxBodyBytes: cfg.Decision.MaxBodyBytes,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), Logger: a.log, Readiness: ready,
	})
	if err != nil {
		return err
	}
	searcher, err := authzen.NewSearcher(authzen.SearcherConfig{Service: svc, Logger: a.log,
		Revision: revisionLoader(a.store.GetRevision)})
	if err != nil {
		return err
	}
	if err := decisionAPI.RegisterAuthZEN(pdphttp.AuthZENConfig{BaseURL: cfg.ExternalURL, Search: searcher}); err != nil {
		return err
	}
	cibaRunner, err := ciba.NewRunner(ciba.RunnerConfig{Verifier: verifier, Offers: offers,
		Requests: cibaRequestStore{Backend: a.store}, Audit: flows, Owner: cfg.chainID(),
		RequestedExpiry: cfg.Decision.CIBARequestedExpiry, Logger: a.log})
	if err != nil {
		return err
	}
	decisionAPI.RegisterCIBA(cibaRunner)
	sessions, err := session.NewSessions(session.SessionsConfig{Store: elevations, Verifier: verifier, Logouts: logouts, Audit: flows, Logger: a.log})
	if err != nil {
		return err
	}
	decisionAPI.RegisterSessions(sessions)
	if err := registerForwardAuth(decisionAPI, cfg, svc, verifier, transactionStore{a.store}, sessions, a.log); err != nil {
		return err
	}
	stopExtAuthz, err := startExtAuthz(cfg, env, svc, verifier, transactionStore{a.store}, sessions, clients, stdout, a.log)
	if err != nil {
		return err
	}
	defer stopExtAuthz()
	adminUI, err := adminHandler(a, svc, clients, live)
	if err != nil {
		return err
	}

	ready.Probe(ctx)
	go ready.Run(ctx)
	go a.watchRevisions(ctx)
	go a.watchLogouts(ctx, logouts)
	go a.sweep(ctx)
	go clients.RunUseFlush(ctx, clientUse{a.store}, time.Minute, func(err error) {
		a.log.Warn("client key last-used times not written; retrying in a minute", "err", err)
	})
	go func() {
		if err := cibaRunner.Run(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("CIBA poller stopped", "err", err)
		}
	}()
	if cfg.Audit.RetentionDays > 0 {
		go a.pruneAudit(ctx, time.Duration(cfg.Audit.RetentionDays)*24*time.Hour)
	}

	servers := []*listener{
		{name: "decision API", addr: cfg.DecisionAddr, handler: decisionAPI},
		{name: "admin UI", addr: cfg.AdminAddr, handler: adminUI},
	}
	for _, l := range servers {
		if err := l.listen(); err != nil {
			for _, o := range servers {
				o.close()
			}
			return err
		}
		fmt.Fprintf(stdout, "stepgate: %s listening on http://%s\n", l.name, l.ln.Addr())
	}
	errc := make(chan error, len(servers))
	for _, l := range servers {
		go func() { errc <- l.serve() }()
	}
	a.log.Info("stepgate ready", "decision_addr", servers[0].ln.Addr().String(), "admin_addr", servers[1].ln.Addr().String(),
		"database", redactURL(cfg.databaseURL()), "audit_mode", cfg.Audit.Mode)

	select {
	case <-ctx.Done():
		a.log.Info("shutting down: draining requests and the audit queue")
	case err = <-errc:
		a.log.Error("listener failed; shutting down", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	for _, l := range servers {
		if serr := l.srv.Shutdown(sctx); serr != nil {
			a.log.Error("http shutdown", "listener", l.name, "err", serr)
		}
	}
	return err
}

// listener is one HTTP listener with conservative timeouts.
type listener struct {
	name    string
	addr    string
	handler http.Handler
	ln      net.Listener
	srv     *http.Server
}

func (l *listener) listen() error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w", l.name, l.addr, err)
	}
	l.ln = ln
	l.srv = &http.Server{Handler: l.handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	return nil
}

func (l *listener) serve() error {
	if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", l.name, err)
	}
	return nil
}

func (l *listener) close() {
	if l.ln != nil {
		l.ln.Close()
	}
}

// watchRevisions re-reads the active revision so that an activation made by
// another replica (or the CLI) is in force here within RevisionPoll plus the
// time to read and compile it (see syncRevision). A revision that fails to
// compile leaves the last good one active.
func (a *app) watchRevisions(ctx context.Context) {
	t := time.NewTicker(a.cfg.Decision.RevisionPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.syncRevision(ctx)
	}
}

// syncRevision loads the active revision when it is not the one in force,
// at once rather than on a later tick, and logs how long the activation
// took to arrive: since it was made (as the activating host's clock says),
// and how much of that was reading the revision and compiling it. Under a
// CPU-bound load compiling dominates: the compiler gets no more CPU than
// any request goroutine does.
func (a *app) syncRevision(ctx context.Context) {
	id, hash, err := a.store.ActiveRevisionID(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("revision watch: read active revision", "err", err)
		}
		return
	}
	if p := a.engine.Active(); p != nil {
		if cid, chash := p.Revision(); cid == id && chash == hash {
			return
		}
	}
	seen := time.Now()
	rev, err := a.store.GetRevision(ctx, id)
	read := time.Since(seen)
	if err == nil {
		err = a.loadRevision(ctx, rev)
	}
	if err != nil {
		a.log.Error("revision watch: load revision", "revision", id, "err", err)
		return
	}
	attrs := []any{"revision", id, "read", read.Round(time.Millisecond), "compile", (time.Since(seen) - read).Round(time.Millisecond)}
	if rev.ActivatedAt != nil {
		attrs = append(attrs, "since_activation", time.Since(*rev.ActivatedAt).Round(time.Millisecond))
	}
	a.log.Info("revision watch: activated revision in force", attrs...)
}

// sweep deletes expired step-up transactions, CIBA requests finished more
// than a day ago, expired session elevations and logout marks past their
// retention, and in four-eyes mode expires approval requests (recording
// each), once a minute.
func (a *app) sweep(ctx context.Context) {
	approvals, err := a.approvals()
	if err != nil {
		a.log.Error("approval requests will expire only when read", "err", err)
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for what, del := range map[string]func() (int64, error){
				"step-up transactions": func() (int64, error) { return a.store.DeleteExpiredStepUps(ctx, now.Add(-time.Minute)) },
				"CIBA requests":        func() (int64, error) { return a.store.DeleteCIBABefore(ctx, now.Add(-24*time.Hour)) },
				"session elevations":   func() (int64, error) { return a.store.DeleteExpiredElevations(ctx, now) },
				"session logouts":      func() (int64, error) { return a.store.DeleteExpiredLogouts(ctx, now) },
			} {
				n, err := del()
				switch {
				case err != nil && ctx.Err() == nil:
					a.log.Warn("sweep expired "+what, "err", err)
				case n > 0:
					a.log.Debug("swept expired "+what, slog.Int64("count", n))
				}
			}
			if approvals != nil {
				if _, err := approvals.Expire(ctx); err != nil && ctx.Err() == nil {
					a.log.Warn("expire approval requests", "err", err)
				}
			}
		}
	}
}

// pruneAudit applies the retention period once an hour after start and then
// daily. Replicas may all run it: pruning is idempotent and serialised on
// the chain heads by the store.
func (a *app) pruneAudit(ctx context.Context, keep time.Duration) {
	wait := time.Hour
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = 24 * time.Hour
		n, err := a.store.DeleteAuditBefore(ctx, time.Now().Add(-keep))
		if err != nil {
			if ctx.Err() == nil {
				a.log.Error("audit retention", "err", err)
			}
			continue
		}
		a.log.Info("audit retention pruned old records", slog.Int64("deleted", n), "older_than", keep.String())
	}
}

// revisionLoader reads a stored revision for AuthZEN search paging. A
// store that does not answer is retryable (503 with Retry-After), not an
// internal error.
func revisionLoader(get func(ctx context.Context, id int64) (storage.PolicyRevision, error)) func(ctx context.Context, id int64) (policy.Revision, error) {
	return func(ctx context.Context, id int64) (policy.Revision, error) {
		rev, err := get(ctx, id)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return policy.Revision{}, err
		case err != nil:
			return policy.Revision{}, fmt.Errorf("%w: %w", clientauth.ErrUnavailable, err)
		}
		return revisionOf(rev)
	}
}
