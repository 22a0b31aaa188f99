package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/extauthz"
	"github.com/stepgate/stepgate/pdp/forwardauth"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
)

// envExtAuthzAddr turns on Envoy's ext_authz (gRPC) on its own listener,
// e.g. 127.0.0.1:8712. It needs forward_auth: Envoy is forward_auth.client
// and sends that client's key in the x-stepgate-client-key metadata.
const envExtAuthzAddr = "STEPGATE_EXT_AUTHZ_ADDR"

// extAuthzAddr is where ext_authz listens (the environment over
// forward_auth.ext_authz_addr); empty leaves it off.
func (f *ForwardAuthConfig) extAuthzAddr(env func(string) string) string {
	if f == nil {
		return ""
	}
	return cmp.Or(env(envExtAuthzAddr), f.ExtAuthzAddr)
}

// startExtAuthz serves ext_authz when configured, with the same forward-auth
// mapping as /v1/forward-auth, and returns the function that stops it
// (gracefully within shutdownGrace). Listening fails the start; a serve
// error later is logged.
func startExtAuthz(cfg Config, env func(string) string, svc *pdp.Service, verifier *trust.Verifier, txs stepup.TransactionStore,
	sessions *session.Sessions, clients extauthz.ClientAuthenticator, stdout io.Writer, log *slog.Logger) (stop func(), err error) {
	addr := cfg.ForwardAuth.extAuthzAddr(env)
	if addr == "" {
		if env(envExtAuthzAddr) != "" {
			return nil, fmt.Errorf("%s needs forward_auth: Envoy is its client", envExtAuthzAddr)
		}
		return func() {}, nil
	}
	h, err := forwardAuthHandler(cfg, svc, verifier, txs, sessions, log)
	if err != nil {
		return nil, err
	}
	srv, err := extauthz.New(extauthz.Config{Decider: h, Clients: clients, Client: cfg.ForwardAuth.Client, Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ext_authz: listen on %s: %w", addr, err)
	}
	g := grpc.NewServer()
	srv.Register(g)
	fmt.Fprintf(stdout, "stepgate: ext_authz listening on grpc://%s\n", ln.Addr())
	go func() {
		if err := g.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			log.Error("ext_authz listener failed", "err", err)
		}
	}()
	return func() { stopGracefully(g, shutdownGrace) }, nil
}

// stopGracefully lets calls in flight finish, for at most grace.
func stopGracefully(g *grpc.Server, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan struct{})
	go func() { g.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		g.Stop()
	}
}

// forwardAuthHandler builds the forward-auth handler from forward_auth, for
// /v1/forward-auth and for ext_authz.
func forwardAuthHandler(cfg Config, svc *pdp.Service, verifier *trust.Verifier, txs stepup.TransactionStore,
	sessions *session.Sessions, log *slog.Logger) (*forwardauth.Handler, error) {
	f := cfg.ForwardAuth
	keys, err := f.cookieKeys(cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	return forwardauth.New(forwardauth.Config{Decider: svc, Verifier: verifier, Transactions: txs, Sessions: sessions,
		Routes: f.Routes, Default: f.Default, ActionHeader: f.ActionHeader, Issuer: f.Issuer, ClientSecret: f.ClientSecret,
		CallbackPath: f.CallbackPath, SignOutPath: f.SignOutPath, CookieName: f.CookieName, Keys: keys,
		SessionTTL: f.SessionTTL, SignInTTL: cfg.Decision.StepUpTTL, Logger: log})
}
