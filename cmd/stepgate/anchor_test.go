package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/audit"
)

var publicKeyRE = regexp.MustCompile(`(?s)-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----\n`)

// anchoredServer runs stepgate for a few decisions and stops it; it
// returns the public key it printed when it generated its signing key.
func anchoredServer(t *testing.T) (env, string) {
	t.Helper()
	e := testEnv(t)
	s := startServer(t, e)
	out := s.out.String()
	if !strings.Contains(out, "generated the audit checkpoint signing key") {
		t.Fatalf("first start did not announce its signing key:\n%s", out)
	}
	pub := publicKeyRE.FindString(out)
	if pub == "" {
		t.Fatalf("no public key printed:\n%s", out)
	}
	key := keyRE.FindStringSubmatch(out)[1]
	for range 6 {
		s.decide(t, key, `{"claims":{"sub":"alice"},"action":"billing.view"}`)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(e["STEPGATE_DATA_DIR"], "audit-signing.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key file: %v", err)
	}
	return e, pub
}

func wantVerifyFails(t *testing.T, e env, want string, args ...string) {
	t.Helper()
	out, err := cli(t, e, append([]string{"audit", "verify"}, args...)...)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), want) {
		t.Fatalf("verify %v: %v\n%s\nwant exit 1 mentioning %q", args, err, out, want)
	}
}

// TestCheckpointsAnchorTheTrail: shutdown signs the last records, verify
// checks the trail against the witness and finds a consistent rewrite the
// chain alone cannot, a missing witness and a wrong key.
func TestCheckpointsAnchorTheTrail(t *testing.T) {
	e, pub := anchoredServer(t)
	out, err := cli(t, e, "audit", "verify")
	if err != nil || !strings.Contains(out, "signed checkpoints") || strings.Contains(out, "not yet anchored") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	pubFile := filepath.Join(t.TempDir(), "audit-signing.pub")
	if err := os.WriteFile(pubFile, []byte(pub), 0o600); err != nil {
		t.Fatal(err)
	}

	// Offline: an export and the public key are enough.
	export, err := cli(t, e, "audit", "export", "--format", "ndjson", "--chain-order")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "trail.ndjson")
	if err := os.WriteFile(file, []byte(export), 0o600); err != nil {
		t.Fatal(err)
	}
	offline := env{"STEPGATE_DATA_DIR": t.TempDir()} // no database, no key
	if out, err := cli(t, offline, "audit", "verify", "--file", file, "--public-key", pubFile); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("offline verify: %v\n%s", err, out)
	}
	wantVerifyFails(t, offline, "no public key", "--file", file)

	// A wrong key is reported, not ignored.
	_, other := anchoredServer(t)
	wantVerifyFails(t, e, "another key", "--public-key", other)
	wantVerifyFails(t, offline, "another key", "--file", file, "--public-key", other)

	// Cut the last two records and move the stored head back: the chain
	// alone still verifies, the checkpoint does not.
	db, err := sql.Open("sqlite", filepath.Join(e["STEPGATE_DATA_DIR"], "stepgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	var chain string
	var last int64
	if err := db.QueryRow(`SELECT chain_id, last_seq FROM audit_chains`).Scan(&chain, &last); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM audit_records WHERE seq > ?`,
		`UPDATE audit_chains SET last_seq = ?, last_hash = (SELECT hash FROM audit_records WHERE seq = ?)`,
	} {
		if _, err := db.Exec(q, last-2, last-2); err != nil {
			t.Fatalf("tamper: %v", err)
		}
	}
	db.Close()
	if out, err := cli(t, e, "audit", "verify", "--unanchored"); err != nil {
		t.Fatalf("the cut should fool the chain alone: %v\n%s", err, out)
	}
	wantVerifyFails(t, e, "were signed in the checkpoint")

	// A deleted witness is reported too.
	if err := os.Remove(e["STEPGATE_AUDIT_WITNESS_FILE"]); err != nil {
		t.Fatal(err)
	}
	wantVerifyFails(t, e, "witness file does not exist")
}

type failingAppender struct{ err error }

func (f failingAppender) AppendAudit(context.Context, []storage.AuditRecord) error { return f.err }

// TestVerifyNamesUnwrittenRecords: acknowledged async records that could
// not reach the database are named by verify: those waiting in a spill
// file for the next start, and those written nowhere, which fail it.
func TestVerifyNamesUnwrittenRecords(t *testing.T) {
	e, _ := anchoredServer(t)
	for _, tc := range []struct {
		id  string
		err error
	}{{"dec-lost", fmt.Errorf("bad record: %w", storage.ErrInvalid)}, {"dec-spilled", errors.New("disk full")}} {
		w, err := audit.NewWriter(audit.Config{Store: failingAppender{tc.err}, Mode: audit.ModeAsync, ChainID: "crashed",
			SpillDir: e["STEPGATE_DATA_DIR"], RetryMin: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(t.Context(), storage.AuditRecord{Kind: storage.KindDecision, DecisionID: tc.id, Outcome: "allow"}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		_ = w.Close(ctx)
		cancel()
	}
	out, err := cli(t, e, "audit", "verify")
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), `never written (chain "crashed", decision "dec-lost"`) {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if !strings.Contains(out, `decision "dec-spilled"`) || !strings.Contains(out, "1 acknowledged records wait in spill files") {
		t.Fatalf("verify does not name the spilled record:\n%s", out)
	}
}
