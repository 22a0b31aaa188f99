package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == noopFlag {
		if err := serveNoop(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "noop:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stepgate-bench:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	quick       bool
	duration    time.Duration
	connections int
	threads     int
	out         string
	workloads   []string
	decisions   int
	keep        bool
	module      string
	profile     bool
	rounds      int
	policies    []string // empty: all
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("stepgate-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "a few seconds per workload (smoke run)")
	fs.DurationVar(&o.duration, "duration", 0, "load duration per workload and target (default 10s, 2s with --quick)")
	fs.IntVar(&o.connections, "connections", 16, "concurrent connections")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads")
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "Markdown report to write (empty: none)")
	wl := fs.String("workloads", strings.Join(allWorkloads(), ","), "comma-separated workloads to run")
	fs.IntVar(&o.decisions, "decisions", 0, "decisions for the rss workload (default 1000000, 60000 with --quick)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binaries, data, logs)")
	fs.StringVar(&o.module, "module", ".", "path of the stepgate module root")
	fs.IntVar(&o.rounds, "rounds", 0, "rounds of the cold, warm, token and audit workloads, targets interleaved, median reported (default 3, 1 with --quick)")
	pol := fs.String("policies", "", "comma-separated policies the cold, warm, latency and names workloads run on (default all: default, stepup, rbac, abac)")
	fs.BoolVar(&o.profile, "profile", false, "build stepgate with -tags pprof and save a CPU profile of every stepgate run (implies --keep)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.duration == 0 {
		o.duration = 10 * time.Second
		if o.quick {
			o.duration = 2 * time.Second
		}
	}
	if o.profile {
		o.keep = true
	}
	if o.rounds == 0 {
		o.rounds = 3
		if o.quick {
			o.rounds = 1
		}
	}
	if o.decisions == 0 {
		o.decisions = 1_000_000
		if o.quick {
			o.decisions = 60_000
		}
	}
	if o.rounds < 1 {
		return o, errors.New("need --rounds >= 1")
	}
	if o.connections < 1 || o.threads < 1 || o.threads > o.connections {
		return o, errors.New("need 1 <= threads <= connections")
	}
	for _, p := range strings.Split(*pol, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !slices.Contains(policyNames, p) {
			return o, fmt.Errorf("unknown policy %q (have %s)", p, strings.Join(policyNames, ", "))
		}
		o.policies = append(o.policies, p)
	}
	known := map[string]bool{}
	for _, w := range allWorkloads() {
		known[w] = true
	}
	for _, w := range strings.Split(*wl, ",") {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		if !known[w] {
			return o, fmt.Errorf("unknown workload %q (have %s)", w, strings.Join(allWorkloads(), ", "))
		}
		o.workloads = append(o.workloads, w)
	}
	return o, nil
}

// run is main without the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	b, err := newBench(ctx, opts, stdout, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	start := time.Now()
	if err := b.runAll(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nall workloads done in %s\n", time.Since(start).Round(time.Second))
	if opts.out == "" {
		return nil
	}
	md := b.markdown(strings.Join(append([]string{"go run ./cmd/stepgate-bench"}, args...), " "), time.Since(start))
	if err := os.WriteFile(opts.out, []byte(md), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(stdout, "report written to %s\n", opts.out)
	return nil
}
