package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "billing:", err)
		os.Exit(1)
	}
}

// run parses flags (each with an environment fallback), starts the app and
// serves until ctx ends.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("billing", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := func(name, fallback string) string {
		if v := env(name); v != "" {
			return v
		}
		return fallback
	}
	addr := fs.String("addr", def("BILLING_ADDR", "127.0.0.1:8080"), "listen address (BILLING_ADDR)")
	base := fs.String("base-url", def("BILLING_BASE_URL", ""), "URL browsers use; default http://ADDR (BILLING_BASE_URL)")
	issuer := fs.String("issuer", def("BILLING_ISSUER", ""), "OpenID provider issuer URL (BILLING_ISSUER)")
	clientID := fs.String("client-id", def("BILLING_CLIENT_ID", "billing-web"), "OAuth client id (BILLING_CLIENT_ID)")
	sgURL := fs.String("stepgate", def("BILLING_STEPGATE_URL", "http://127.0.0.1:8710"), "stepgate decision API (BILLING_STEPGATE_URL)")
	window := fs.Duration("billing-window", 0, "how long stepgate's policy unlocks billing after a step-up, shown on the home page (BILLING_WINDOW, e.g. 15m)")
	phone := fs.Bool("phone-sim", env("BILLING_PHONE_SIM") == "true", "serve /phone, answering CIBA through the TEST provider's /__test routes (BILLING_PHONE_SIM=true)")
	phoneFor := fs.String("phone-users", env("BILLING_PHONE_USERS"), "comma-separated users (sub) who have the simulated phone; empty: everyone (BILLING_PHONE_USERS)")
	if v := env("BILLING_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("BILLING_WINDOW: %w", err)
		}
		*window = d
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	key := env("BILLING_STEPGATE_KEY")
	if key == "" {
		return errors.New("set BILLING_STEPGATE_KEY to the app's stepgate client key")
	}
	if *base == "" {
		*base = "http://" + *addr
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	app, err := New(ctx, Config{BaseURL: *base, Issuer: *issuer, ClientID: *clientID, StepgateURL: *sgURL, StepgateKey: key,
		PhoneSimulator: *phone, PhoneUsers: phoneUsers(*phoneFor), BillingWindow: *window, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return serve(ctx, ln, app.Handler(), stdout)
}

// serve runs h on ln until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, h http.Handler, stdout io.Writer) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Fprintf(stdout, "billing demo listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
