package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
)

// policyCommand runs `stepgate policy push|list|activate|rollback|test`.
func policyCommand(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return exitError{code: 2, msg: "policy: want push, list, activate, rollback or test"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("policy "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	activate := fs.Bool("activate", false, "activate the pushed revision")
	msg := fs.String("m", "", "message or reason recorded in the admin audit")
	bypass := fs.Bool("bypass-approval", false, "activate or roll back although admin.require_approval is set; recorded as a bypass")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	if sub == "test" {
		if len(pos) != 1 {
			return exitError{code: 2, msg: "usage: stepgate policy test DIR|FILE.tar.gz"}
		}
		return policyTest(ctx, pos[0], stdout)
	}

	cfg.Audit.Mode = "sync"
	cfg.Audit.ChainID = cfg.chainID() + ":cli"
	cfg.Audit.JournalDir = "off" // a CLI run commits its few records before it exits
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.close(context.WithoutCancel(ctx))
	actor := cliActor()
	// With four-eyes approval on, the command line changes what is active
	// only when told to bypass it, and the record says so.
	var noted map[string]any
	if changesActive := sub == "activate" || sub == "rollback" || (sub == "push" && *activate); changesActive && cfg.Admin.RequireApproval {
		if !*bypass {
			return exitError{code: 2, msg: "admin.require_approval is set: request the change in the admin UI for another admin to approve, " +
				"or pass --bypass-approval to make it now (recorded as a bypass in the admin audit)"}
		}
		noted = map[string]any{"approval": "bypassed", "bypass": "command line --bypass-approval"}
	}
	switch sub {
	case "push":
		if len(pos) != 1 {
			return exitError{code: 2, msg: "usage: stepgate policy push [--activate] [-m MSG] DIR|FILE.tar.gz"}
		}
		files, err := readBundle(pos[0])
		if err != nil {
			return err
		}
		if noted != nil {
			return exitError{code: 2, msg: "admin.require_approval is set: push without --activate, then run policy activate --bypass-approval"}
		}
		rev, v, err := a.policies.Push(ctx, actor, files, *msg, *activate)
		if v != nil {
			printValidation(stdout, v)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revision %d stored (%s), hash %s\n", rev.ID, rev.State, rev.Hash)
		return nil
	case "list":
		revs, err := a.policies.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REVISION\tSTATE\tCREATED\tAUTHOR\tHASH\tMESSAGE")
		for _, r := range revs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.12s\t%s\n", r.ID, r.State, r.CreatedAt.UTC().Format(time.RFC3339), r.Author, r.Hash, r.Message)
		}
		return tw.Flush()
	case "activate":
		if len(pos) != 1 {
			return exitError{code: 2, msg: "usage: stepgate policy activate REV [-m REASON]"}
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || id <= 0 {
			return exitError{code: 2, msg: fmt.Sprintf("revision %q is not a positive number", pos[0])}
		}
		rev, err := a.policies.ActivateNoted(ctx, actor, id, *msg, noted)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revision %d is active\n", rev.ID)
		return nil
	case "rollback":
		rev, err := a.policies.RollbackTo(ctx, actor, *msg, admin.RollbackOptions{Detail: noted})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rolled back: revision %d is active\n", rev.ID)
		return nil
	}
	return exitError{code: 2, msg: fmt.Sprintf("policy: unknown subcommand %q", sub)}
}

// policyTest runs a bundle's Rego tests; it exits 1 when any fails.
func policyTest(ctx context.Context, path string, stdout io.Writer) error {
	files, err := readBundle(path)
	if err != nil {
		return err
	}
	results, err := policies.RunTests(ctx, files.FS())
	if err != nil {
		return err
	}
	passed, failed := 0, 0
	for _, r := range results {
		switch {
		case r.Pass:
			passed++
		case r.Skip:
		default:
			failed++
			detail := r.Error
			if detail == "" {
				detail = "test was false or undefined"
			}
			fmt.Fprintf(stdout, "FAIL %s.%s (%s): %s\n", r.Package, r.Name, r.Location, detail)
			if r.Output != "" {
				fmt.Fprintf(stdout, "  %s\n", strings.ReplaceAll(r.Output, "\n", "\n  "))
			}
		}
	}
	fmt.Fprintf(stdout, "policy tests: %d passed, %d failed\n", passed, failed)
	if passed+failed == 0 {
		fmt.Fprintf(stdout, "WARNING: %s\n", admin.NoTestsWarning)
	}
	if failed > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%d policy tests failed", failed)}
	}
	return nil
}

func printValidation(w io.Writer, v *admin.Validation) {
	if v.Compile != nil {
		for _, i := range v.Compile.Issues {
			fmt.Fprintf(w, "%s:%d:%d: %s\n", i.File, i.Line, i.Column, i.Message)
		}
		return
	}
	for _, r := range v.Tests {
		if !r.Pass && !r.Skip {
			fmt.Fprintf(w, "FAIL %s.%s (%s) %s\n", r.Package, r.Name, r.Location, r.Error)
			if r.Output != "" {
				fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(r.Output, "\n", "\n  "))
			}
		}
	}
	fmt.Fprintf(w, "policy tests: %d passed, %d failed\n", v.Passed, v.Failed)
	for _, warning := range v.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", warning)
	}
}

// readBundle reads a bundle directory or a .tar.gz file.
func readBundle(path string) (policy.Files, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	if st.IsDir() {
		return policy.ReadFS(os.DirFS(path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	return policy.ReadTarball(b)
}

// cliActor names who ran the command in the admin audit: the operating
// system account, the only identity the command line has.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// parseInterspersed lets flags follow positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errors.New("see the flags above")
			}
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
		if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
			for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
				pos, args = append(pos, args[0]), args[1:]
			}
			if len(args) == 0 {
				return pos, nil
			}
		}
	}
}
