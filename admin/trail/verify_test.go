package trail_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/anchor"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/sqlstore/sqlstoretest"
)

// anchored is a trail with 300 records signed by a checkpoint and 20
// written after it.
type anchored struct {
	st      *sqlstore.Store
	tr      *trail.Trail
	key     ed25519.PrivateKey
	witness string
}

func newAnchored(t *testing.T) *anchored {
	t.Helper()
	a := &anchored{st: sqlstoretest.NewSQLite(t), witness: filepath.Join(t.TempDir(), "checkpoints.jsonl")}
	var err error
	if _, a.key, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	fw, err := anchor.NewFileWitness(a.witness)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	cp, err := anchor.New(anchor.Config{Heads: a.st, Key: a.key, Signer: "seed", Witnesses: []anchor.Witness{fw}})
	if err != nil {
		t.Fatal(err)
	}
	seedAudit(t, a.st, 300, 10)
	if ok, err := cp.Checkpoint(t.Context()); !ok || err != nil {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}
	seedAudit(t, a.st, 20, 10)
	a.tr, err = trail.New(trail.Config{Store: a.st, Anchoring: &trail.Anchoring{WitnessFiles: []string{a.witness}, PublicKey: a.pub()}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *anchored) pub() ed25519.PublicKey { return a.key.Public().(ed25519.PublicKey) }

func (a *anchored) export(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := a.tr.Export(t.Context(), trail.Filter{Query: storage.AuditQuery{ChainOrder: true}}, trail.FormatNDJSON, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAnchoredVerification(t *testing.T) {
	a := newAnchored(t)
	v, err := a.tr.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.ChainRange{{ChainID: "seed", FromSeq: 301, ToSeq: 320}}
	if !v.Intact() || v.Checkpoints.Checkpoints != 1 || len(v.Unanchored) != 1 || v.Unanchored[0] != want[0] {
		t.Fatalf("verification %+v, checkpoints %+v", v.VerifyReport, v.Checkpoints)
	}
	// A deleted witness is reported, not read as "nothing to check".
	if err := os.Rename(a.witness, a.witness+".gone"); err != nil {
		t.Fatal(err)
	}
	v, err = a.tr.Verify(t.Context())
	if err != nil || v.Intact() || !strings.Contains(strings.Join(v.Checkpoints.Problems, " "), "does not exist") {
		t.Fatalf("without the witness: %+v %v", v.Checkpoints, err)
	}
}

func TestExportVerifiesOfflineWithOnlyThePublicKey(t *testing.T) {
	a := newAnchored(t)
	file := a.export(t)
	if !bytes.HasPrefix(file, []byte(`{"checkpoint":{"v":"stepgate-checkpoint-v1"`)) {
		t.Fatalf("the export does not start with its checkpoint: %.120s", file)
	}
	v, err := trail.VerifyExport(bytes.NewReader(file), a.pub())
	if err != nil {
		t.Fatal(err)
	}
	if !v.Intact() || v.Checked != 320 || len(v.Unanchored) != 1 || v.Unanchored[0].FromSeq != 301 {
		t.Fatalf("offline: %+v %+v", v.VerifyReport, v.Checkpoints)
	}

	// Another key: the checkpoint does not verify.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	v, err = trail.VerifyExport(bytes.NewReader(file), other.Public().(ed25519.PublicKey))
	if err != nil || v.Intact() || !strings.Contains(v.Checkpoints.Problems[0], "another key") {
		t.Fatalf("wrong key: %+v %v", v.Checkpoints, err)
	}

	// A deny turned into an allow, every later hash recomputed: the
	// signed position no longer matches.
	forged := rewriteExport(t, file, 120, func(r *storage.AuditRecord) { r.Outcome = "deny" })
	v, err = trail.VerifyExport(bytes.NewReader(forged), a.pub())
	if err != nil || v.Intact() || v.FirstBroken.Seq != 300 || !strings.Contains(v.FirstBroken.Reason, "among 1..300 was rewritten") {
		t.Fatalf("rewritten export: %+v %v", v.FirstBroken, err)
	}
}

func TestExportVerificationRefusesFilesItCannotJudge(t *testing.T) {
	a := newAnchored(t)
	var buf bytes.Buffer
	if err := a.tr.Export(t.Context(), trail.Filter{}, trail.FormatNDJSON, &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := trail.VerifyExport(&buf, a.pub()); !errors.Is(err, admin.ErrInvalid) || !strings.Contains(err.Error(), "--chain-order") {
		t.Fatalf("newest-first export: %v", err)
	}
	if _, err := trail.VerifyExport(strings.NewReader("{not json\n"), a.pub()); !errors.Is(err, admin.ErrInvalid) {
		t.Fatalf("garbage: %v", err)
	}
}

// rewriteExport edits the record at seq (1-based) with edit and recomputes
// its hash and every later hash and link, as a forger with the export and
// the hashing code would.
func rewriteExport(t *testing.T, file []byte, seq int64, edit func(*storage.AuditRecord)) []byte {
	t.Helper()
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(file))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	prev := ""
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte(`{"checkpoint"`)) {
			out.Write(line)
			out.WriteByte('\n')
			continue
		}
		var r storage.AuditRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Seq == seq {
			edit(&r)
		}
		if r.Seq >= seq {
			r.PrevHash = prev
			r.Hash = storage.ComputeAuditHash(r)
		}
		prev = r.Hash
		b, _ := json.Marshal(r)
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// TestCheckpointLinesAreIgnoredByRecordReaders: a reader that decodes
// every line as a record sees the checkpoint as an empty record, which is
// why it comes first and has its own key; the records still verify.
func TestCheckpointLinesAreIgnoredByRecordReaders(t *testing.T) {
	a := newAnchored(t)
	sc := bufio.NewScanner(bytes.NewReader(a.export(t)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	v := storage.NewChainVerifier()
	for sc.Scan() {
		var r storage.AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.ChainID == "" {
			continue
		}
		if b := v.Add(r); b != nil {
			t.Fatal(b)
		}
	}
	if b := v.Finish(); b != nil || v.Checked() != 320 {
		t.Fatalf("%v, %d", b, v.Checked())
	}
}
