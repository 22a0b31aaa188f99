package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
	"github.com/stepgate/stepgate/storage/journal"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// auditCommand runs `stepgate audit export|verify`. Neither writes to the
// trail, so they open the store without an audit writer.
func auditCommand(ctx context.Context, cfg Config, env func(string) string, args []string, stdout, stderr io.Writer) error {
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
	publicKey := fs.String("public-key", "", "verify: the checkpoint signing key's public key (a PEM file, or the key as PEM or base64); default: the public half of audit.checkpoint.key_file")
	var witnesses stringList
	fs.Var(&witnesses, "witness", "verify: a witness file of signed checkpoints (repeatable; default audit.checkpoint.witness_file)")
	file := fs.String("file", "", "verify: check this NDJSON export offline (whole chains, --chain-order) instead of the database")
	unanchored := fs.Bool("unanchored", false, "verify: check the chains alone, without signed checkpoints (cannot reveal a consistent rewrite)")
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

	if sub == "verify" && *file != "" {
		return verifyExportFile(*file, *publicKey, cfg, env, stdout)
	}
	st, err := sqlstore.Open(ctx, sqlstore.Config{URL: cfg.databaseURL(), Logger: newLogger(cfg, stderr)})
	if err != nil {
		return fmt.Errorf("open database %s: %w", redactURL(cfg.databaseURL()), err)
	}
	defer st.Close()
	if len(witnesses) == 0 {
		witnesses = stringList{cfg.witnessFile()}
	}
	var anchoring *trail.Anchoring
	if !*unanchored {
		pub, err := verifyPublicKey(*publicKey, cfg, env)
		switch {
		case err == nil:
			anchoring = &trail.Anchoring{WitnessFiles: witnesses, PublicKey: pub}
		case sub == "verify":
			return exitError{code: 1, msg: fmt.Sprintf("audit verify: %v; or --unanchored to check the chains alone", err)}
		}
	}
	// The admin UI reads through the same Trail, so an export of one filter
	// is the same file from either (NDJSON carrying the same checkpoints).
	tr, err := trail.New(trail.Config{Store: st, Anchoring: anchoring})
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
		v, err := tr.Verify(ctx)
		if err != nil {
			return err
		}
		extra := unwrittenReport(cfg.auditSpillDir(), stdout)
		extra = append(extra, journalReport(ctx, cfg.auditJournalBase(), st, stdout)...)
		return reportVerification(v, "audit trail", stdout, extra...)
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

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// reportVerification prints a verification and turns a broken one into
// exit status 1. Records after the last checkpoint do not fail it: they
// are listed as not yet anchored.
func reportVerification(v trail.Verification, what string, stdout io.Writer, extra ...string) error {
	problems := extra
	if c := v.Checkpoints; c != nil {
		problems = append(problems, c.Problems...)
		for _, w := range c.Warnings {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
	}
	if b := v.FirstBroken; b != nil {
		problems = append(problems, fmt.Sprintf("chain %q seq %d (record id %d, decision %q): %s", b.ChainID, b.Seq, b.ID, b.DecisionID, b.Reason))
	}
	if len(problems) > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%s broken (%d records checked):\n  %s", what, v.Checked, strings.Join(problems, "\n  "))}
	}
	if v.Checkpoints == nil {
		fmt.Fprintf(stdout, "audit chain intact: %d records in %d chains verified (unanchored: without signed checkpoints a consistent rewrite cannot be seen)\n", v.Checked, v.Chains)
		return nil
	}
	fmt.Fprintf(stdout, "audit chain intact: %d records in %d chains verified against %d signed checkpoints (key %s, signers %s)\n",
		v.Checked, v.Chains, v.Checkpoints.Checkpoints, v.KeyID, strings.Join(v.Checkpoints.Signers, ", "))
	for _, u := range v.Unanchored {
		fmt.Fprintf(stdout, "not yet anchored: chain %q seq %d..%d (written after the last checkpoint)\n", u.ChainID, u.FromSeq, u.ToSeq)
	}
	return nil
}

// verifyExportFile verifies an NDJSON export offline, with only the
// public key.
func verifyExportFile(path, publicKey string, cfg Config, env func(string) string, stdout io.Writer) error {
	pub, err := verifyPublicKey(publicKey, cfg, env)
	if err != nil {
		return exitError{code: 1, msg: "audit verify --file: " + err.Error()}
	}
	f, err := os.Open(path)
	if err != nil {
		return exitError{code: 1, msg: "audit verify --file: " + err.Error()}
	}
	defer f.Close()
	v, err := trail.VerifyExport(f, pub)
	if err != nil {
		return exitError{code: 1, msg: "audit verify --file " + path + ": " + err.Error()}
	}
	if v.Checkpoints != nil && v.Checkpoints.Checkpoints == 0 && v.Checked > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("audit verify --file %s: the export carries no signed checkpoints, so nothing anchors its %d records (export from a stepgate with checkpoints on)", path, v.Checked)}
	}
	return reportVerification(v, "export "+path, stdout)
}

// unwrittenReport names the acknowledged records that are not in the
// database: those waiting in spill files for the next start are printed
// (they are not lost), and those written nowhere are returned as problems.
func unwrittenReport(dir string, stdout io.Writer) []string {
	recs, err := audit.Unwritten(dir)
	var problems []string
	if err != nil {
		problems = append(problems, fmt.Sprintf("acknowledged records not in the database could not all be read: %v", err))
	}
	waiting := 0
	for _, u := range recs {
		r := u.Record
		if u.Lost {
			problems = append(problems, fmt.Sprintf("acknowledged record never written (chain %q, %s %q, request %q, %s): %s",
				r.ChainID, r.Kind, r.DecisionID, r.RequestID, r.Time.UTC().Format(time.RFC3339), u.Reason))
			continue
		}
		waiting++
		fmt.Fprintf(stdout, "waiting in %s: %s record of decision %q (acknowledged, written to the database at the next start)\n",
			u.File, r.Kind, r.DecisionID)
	}
	if waiting > 0 {
		fmt.Fprintf(stdout, "%d acknowledged records wait in spill files (not yet in the database)\n", waiting)
	}
	return problems
}

// journalReport lists the records the local audit journals (one directory
// per chain under base) hold beyond what the database has indexed:
// acknowledged and durable, searchable once indexed — within a second by a
// running server, at the next start by a stopped or killed one. A journal
// the database claims to have indexed beyond its end is a problem.
func journalReport(ctx context.Context, base string, st storage.AuditJournals, stdout io.Writer) []string {
	if base == "" {
		return nil
	}
	entries, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return []string{fmt.Sprintf("audit journals in %s could not be listed: %v", base, err)}
	}
	var problems []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		id, _, last, err := journal.Inspect(dir)
		if err != nil {
			problems = append(problems, fmt.Sprintf("audit journal %s could not be read: %v", dir, err))
			continue
		}
		pos, err := st.AuditJournalPosition(ctx, id)
		if err != nil {
			problems = append(problems, fmt.Sprintf("audit journal %s: position in the database: %v", dir, err))
			continue
		}
		switch {
		case int64(last) > pos:
			fmt.Fprintf(stdout, "waiting in journal %s: entries %d..%d, %d acknowledged records not yet in the database (a running server indexes them within a second, a stopped one at its next start)\n",
				dir, pos+1, last, int64(last)-pos)
		case int64(last) < pos:
			problems = append(problems, fmt.Sprintf("audit journal %s ends at entry %d but the database indexed it through %d: the journal was replaced by an older copy", dir, last, pos))
		}
	}
	return problems
}
