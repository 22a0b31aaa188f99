package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// GC defaults, each applied only when its standard variable (GOGC,
// GOMEMLIMIT) is unset. The decision path allocates short-lived values
// only (policy evaluation, request and response documents) over a small
// live heap (compiled policy, caches), so collecting at 4x the live heap
// instead of 2x roughly halves GC CPU on the decision workloads. The soft
// memory limit keeps that from growing the process: near the limit the
// collector runs more often (Go caps its CPU share if the live heap itself
// outgrows the limit, so a large cache slows down rather than fails).
// stepgate-bench's rss workload watches the result.
const (
	defaultGCPercent   = 300
	defaultMemoryLimit = 128 << 20
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if err != nil {
		var ee exitError
		if !errors.As(err, &ee) || ee.msg != "" {
			fmt.Fprintln(os.Stderr, "stepgate:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit code (e.g. `audit verify` on a broken
// chain, `policy test` with failing tests).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

const usage = `usage: stepgate [--config FILE] <command> [arguments]

commands:
  serve                                 run the decision API and admin UI (default)
  policy push [--activate] [-m MSG] DIR|FILE.tar.gz
                                        store a bundle as a new revision
  policy list                           list revisions
  policy activate REV [-m REASON]       make a revision active
  policy rollback [-m REASON]           re-activate the previously active revision
                                        (with admin.require_approval: only with
                                        --bypass-approval, recorded as a bypass)
  policy test DIR|FILE.tar.gz           run a bundle's Rego tests
  audit export --format csv|ndjson [--since T] [--until T] [filters]
                                        stream the audit trail to stdout
  audit verify [--public-key KEY] [--witness FILE]...
                                        check the chains against the signed checkpoints
                                        (exit 0 only when intact)
  audit verify --file EXPORT.ndjson --public-key KEY
                                        check a --chain-order NDJSON export offline
  audit prune --older-than 90d          delete old records, keeping the rest verifiable
  admin user add NAME [--role admin|auditor]
  admin user passwd NAME                give a local admin UI account a (new) password:
                                        $STEPGATE_ADMIN_USER_PASSWORD, or one generated and shown once
  admin user disable|enable NAME -m REASON
  admin user list                       list local admin UI accounts
  version                               print the version

Every command honours STEPGATE_DATABASE_URL and STEPGATE_DATA_DIR.
`

// run is main without the process: args without the program name, the
// environment as a lookup function, and the output streams. It returns when
// the command is done or, for serve, when ctx is cancelled and the drain
// finished.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	configFile := ""
	for len(args) > 0 {
		switch {
		case args[0] == "--config" && len(args) > 1:
			configFile, args = args[1], args[2:]
			continue
		case len(args[0]) > 9 && args[0][:9] == "--config=":
			configFile, args = args[0][9:], args[1:]
			continue
		case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
			fmt.Fprint(stdout, usage)
			return nil
		}
		break
	}
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "stepgate", version())
		return nil
	}
	cfg, err := loadConfig(configFile, env)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, env, stdout, stderr)
	case "policy":
		return policyCommand(ctx, cfg, args, stdout, stderr)
	case "audit":
		return auditCommand(ctx, cfg, env, args, stdout, stderr)
	case "admin":
		return adminCommand(ctx, cfg, env, args, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return exitError{code: 2, msg: fmt.Sprintf("unknown command %q", cmd)}
}
