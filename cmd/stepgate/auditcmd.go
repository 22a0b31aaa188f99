package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// auditCommand runs `stepgate audit export|verify`. Neither writes to the
// trail, so they open the store without an audit writer.
func auditCommand(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return exitError{code: 2, msg: "audit: want export, verify or prune"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "", "csv or ndjson")
	since := fs.String("since", "", "only records at or after this time (RFC 3339, YYYY-MM-DD, or a duration such as 24h meaning that long ago)")
	until := fs.String("until", "", "only records before this time (same forms as --since)")
	var q storage.AuditQuery
	fs.StringVar(&q.ClientID, "client", "", "only this client id")
	fs.StringVar(&q.Subject, "subject", "", "only this subject")
	fs.StringVar(&q.Action, "action", "", "only this action")
	fs.StringVar(&q.Outcome, "outcome", "", "only this outcome (allow, deny, step_up, ciba; or a flow record's: verified, a step-up error code, started, approved, denied, expired, error, elevated, revoked, logout)")
	fs.StringVar(&q.Kind, "kind", "", "only this record kind (decision, stepup, ciba, session, admin, checkpoint)")
	fs.StringVar(&q.DecisionID, "decision-id", "", "only this decision")
	fs.Int64Var(&q.PolicyRevision, "revision", 0, "only decisions by this policy revision")
	mfa := fs.String("mfa", "", "only decisions whose sign-in had MFA (yes) or not (no)")
	fs.BoolVar(&q.ChainOrder, "chain-order", false, "order by chain and sequence (for offline chain verification)")
	olderThan := fs.String("older-than", "", "prune: delete records older than this (e.g. 90d, 2160h)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	if len(pos) > 0 {
		return exitError{code: 2, msg: fmt.Sprintf("audit %s: unexpected argument %q", sub, pos[0])}
	}
	if *mfa != "" && *mfa != "yes" && *mfa != "no" {
		return exitError{code: 2, msg: "--mfa: want yes or no"}
	}
	now := time.Now()
	if q.Since, err = parseWhen(*since, now); err != nil {
		return exitError{code: 2, msg: "--since: " + err.Error()}
	}
	if q.Until, err = parseWhen(*until, now); err != nil {
		return exitError{code: 2, msg: "--until: " + err.Error()}
	}

	st, err := sqlstore.Open(ctx, sqlstore.Config{URL: cfg.databaseURL(), Logger: newLogger(cfg, stderr)})
	if err != nil {
		return fmt.Errorf("open database %s: %w", redactURL(cfg.databaseURL()), err)
	}
	defer st.Close()
	// The admin UI reads through the same Trail, so an export of one filter
	// is the same file from either.
	tr, err := trail.New(trail.Config{Store: st})
	if err != nil {
		return err
	}
	switch sub {
	case "export":
		f, err := trail.ParseFormat(*format)
		if err != nil {
			return exitError{code: 2, msg: "audit export: --format csv or --format ndjson is required"}
		}
		return tr.Export(ctx, trail.Filter{Query: q, MFA: *mfa}, f, stdout)
	case "verify":
		rep, err := tr.Verify(ctx)
		if err != nil {
			return err
		}
		if !rep.OK {
			b := rep.FirstBroken
			return exitError{code: 1, msg: fmt.Sprintf("audit chain broken at chain %q seq %d (record id %d, decision %q): %s; %d records checked",
				b.ChainID, b.Seq, b.ID, b.DecisionID, b.Reason, rep.Checked)}
		}
		fmt.Fprintf(stdout, "audit chain intact: %d records in %d chains verified\n", rep.Checked, rep.Chains)
		return nil
	case "prune":
		age, err := parseAge(*olderThan)
		if err != nil {
			return exitError{code: 2, msg: "audit prune --older-than: " + err.Error()}
		}
		n, err := st.DeleteAuditBefore(ctx, now.Add(-age))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "pruned %d audit records older than %s; checkpoints keep the remaining chains verifiable\n", n, *olderThan)
		return nil
	}
	return exitError{code: 2, msg: fmt.Sprintf("audit: unknown subcommand %q", sub)}
}

// parseAge reads a retention age: a Go duration or a number of days ("90d").
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a positive number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (e.g. 90d or 2160h)", s)
	}
	return d, nil
}

// parseWhen reads an RFC 3339 time, a date, or a duration back from now.
func parseWhen(s string, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return &t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return &t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		t := now.Add(-d)
		return &t, nil
	}
	return nil, fmt.Errorf("%q is not an RFC 3339 time, a YYYY-MM-DD date or a positive duration", s)
}
