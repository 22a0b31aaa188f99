package anchor

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

type heads struct {
	mu  sync.Mutex
	h   []storage.ChainHead
	err error
	// rewritten maps "chain/seq" to the hash stored there now, when it is
	// not the one the fixture's heads name (id followed by seq).
	rewritten map[string]string
}

func (f *heads) AuditHashAt(_ context.Context, chain string, seq int64) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h, ok := f.rewritten[fmt.Sprintf("%s/%d", chain, seq)]; ok {
		return h, nil
	}
	return fmt.Sprintf("%s%d", chain, seq), nil
}

func (f *heads) AuditHeads(context.Context) ([]storage.ChainHead, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]storage.ChainHead(nil), f.h...), f.err
}

func (f *heads) set(h ...storage.ChainHead) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.h = h
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

type fixture struct {
	key   ed25519.PrivateKey
	path  string
	heads *heads
	cp    *Checkpointer
	clock time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{key: newKey(t), path: filepath.Join(t.TempDir(), "w", "checkpoints.jsonl"), heads: &heads{},
		clock: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	f.start(t)
	return f
}

func (f *fixture) start(t *testing.T) {
	t.Helper()
	fw, err := NewFileWitness(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	var resume *Checkpoint
	if cps, _, err := ReadFile(f.path); err == nil {
		resume = LastBy(cps, "node-1")
	}
	f.cp, err = New(Config{Heads: f.heads, Key: f.key, Signer: "node-1", Witnesses: []Witness{fw}, Resume: resume,
		Now: func() time.Time { f.clock = f.clock.Add(time.Second); return f.clock }})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) checkpoint(t *testing.T, h ...storage.ChainHead) {
	t.Helper()
	f.heads.set(h...)
	if ok, err := f.cp.Checkpoint(t.Context()); err != nil || !ok {
		t.Fatalf("checkpoint: made %v, err %v", ok, err)
	}
}

func (f *fixture) check(t *testing.T, pub ed25519.PublicKey) Result {
	t.Helper()
	cps, torn, err := ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	res := Check(cps, pub)
	if torn != "" {
		res.Warnings = append(res.Warnings, torn)
	}
	return res
}

func h(id string, seq int64, hash string) storage.ChainHead {
	return storage.ChainHead{ChainID: id, Seq: seq, Hash: hash}
}

func TestCheckpointsVerifyAndAnchor(t *testing.T) {
	f := newFixture(t)
	f.checkpoint(t, h("b", 1, "b1"), h("a", 3, "a3"))
	// Unchanged heads make no checkpoint.
	if ok, err := f.cp.Checkpoint(t.Context()); err != nil || ok {
		t.Fatalf("unchanged heads: made %v, err %v", ok, err)
	}
	f.checkpoint(t, h("a", 5, "a5"), h("b", 1, "b1"), h("c", 2, "c2"))
	res := f.check(t, pubOf(f.key))
	if !res.OK() || res.Checkpoints != 2 {
		t.Fatalf("problems %v, checkpoints %d", res.Problems, res.Checkpoints)
	}
	want := map[string][]int64{"a": {3, 5}, "b": {1}, "c": {2}}
	for id, seqs := range want {
		got := res.Anchors[id]
		if len(got) != len(seqs) {
			t.Fatalf("anchors of %s: %+v", id, got)
		}
		for i, s := range seqs {
			if got[i].Seq != s || got[i].Hash != id+string(rune('0'+s)) {
				t.Fatalf("anchors of %s: %+v", id, got)
			}
		}
	}
	if st := f.cp.Stats(); st.Signed != 2 || st.Last.IsZero() {
		t.Fatalf("stats %+v", st)
	}
}

func TestCheckFindsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, f *fixture, lines []string) []string
		pub    func(f *fixture) ed25519.PublicKey
		want   string
	}{
		{"wrong public key", nil, func(*fixture) ed25519.PublicKey { return pubOf(newKey(t)) }, "signed with another key"},
		{"edited line", func(t *testing.T, _ *fixture, lines []string) []string {
			lines[1] = strings.Replace(lines[1], `"seq":5`, `"seq":4`, 1)
			return lines
		}, nil, "signature does not verify"},
		{"line removed from the middle", func(t *testing.T, _ *fixture, lines []string) []string {
			return append(lines[:1:1], lines[2:]...)
		}, nil, "does not follow its previous one"},
		{"lines reordered", func(t *testing.T, _ *fixture, lines []string) []string {
			lines[1], lines[2] = lines[2], lines[1]
			return lines
		}, nil, "does not follow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.checkpoint(t, h("a", 3, "a3"))
			f.checkpoint(t, h("a", 5, "a5"))
			f.checkpoint(t, h("a", 7, "a7"))
			if tc.tamper != nil {
				b, err := os.ReadFile(f.path)
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				lines = tc.tamper(t, f, lines)
				if err := os.WriteFile(f.path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			pub := pubOf(f.key)
			if tc.pub != nil {
				pub = tc.pub(f)
			}
			res := f.check(t, pub)
			if res.OK() || !strings.Contains(strings.Join(res.Problems, "\n"), tc.want) {
				t.Fatalf("problems %q, want one containing %q", res.Problems, tc.want)
			}
		})
	}
}

// TestCheckpointerNeverSignsAContradiction: records deleted from the end of
// a chain, a chain deleted, or a signed record rewritten with every later
// hash recomputed are noticed at the next checkpoint; the chain's signed
// head is carried forward, so the witness keeps the evidence.
func TestCheckpointerNeverSignsAContradiction(t *testing.T) {
	f := newFixture(t)
	f.checkpoint(t, h("a", 5, "a5"), h("b", 2, "b2"), h("cli", 2, "cli2"))
	// a cut back to 3, cli deleted, b moved on: only b's move is signed.
	f.checkpoint(t, h("a", 3, "a3"), h("b", 4, "b4"))
	// b rewritten below its signed head, then moved on again.
	f.heads.rewritten = map[string]string{"b/4": "forged"}
	f.heads.set(h("a", 6, "a6"), h("b", 9, "b9"))
	if ok, err := f.cp.Checkpoint(t.Context()); err != nil || !ok {
		t.Fatalf("third checkpoint: %v %v", ok, err)
	}
	if st := f.cp.Stats(); st.Rewinds != 2 || st.Rewrites != 1 {
		t.Fatalf("stats %+v, want 2 rewinds and 1 rewrite", st)
	}
	cps, _, err := ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	last := cps[len(cps)-1].Chains
	want := []storage.ChainHead{h("a", 6, "a6"), h("b", 4, "b4"), h("cli", 2, "cli2")}
	if fmt.Sprint(last) != fmt.Sprint(want) {
		t.Fatalf("last checkpoint signs %v, want %v (a extends its signed head again; b and cli keep theirs)", last, want)
	}
	if res := Check(cps, pubOf(f.key)); !res.OK() {
		t.Fatalf("the witness itself is consistent: %v", res.Problems)
	}
}

func TestCheckFindsOnePositionSignedWithTwoHashes(t *testing.T) {
	k := newKey(t)
	var cps []Located
	for i, hash := range []string{"x", "y"} {
		c := Checkpoint{Time: time.Now(), Signer: []string{"r1", "r2"}[i], Chains: []storage.ChainHead{h("a", 4, hash)}}
		c.Sign(k)
		cps = append(cps, Located{Checkpoint: c, Source: "mem", Line: i + 1})
	}
	res := Check(cps, pubOf(k))
	if res.OK() || !strings.Contains(res.Problems[0], "sequence 4 was signed with hash") {
		t.Fatalf("problems %q", res.Problems)
	}
}

func TestCheckpointerResumesItsSequence(t *testing.T) {
	f := newFixture(t)
	f.checkpoint(t, h("a", 1, "a1"))
	// A restart reads its last checkpoint back and continues from it.
	f.start(t)
	f.checkpoint(t, h("a", 2, "a2"))
	if res := f.check(t, pubOf(f.key)); !res.OK() || res.Checkpoints != 2 {
		t.Fatalf("problems %v, checkpoints %d", res.Problems, res.Checkpoints)
	}
}

func TestTornLastLineIsAWarning(t *testing.T) {
	f := newFixture(t)
	f.checkpoint(t, h("a", 1, "a1"))
	fh, err := os.OpenFile(f.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(`{"v":"stepgate-checkpoint-v1","time":`)
	fh.Close()
	res := f.check(t, pubOf(f.key))
	if !res.OK() || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "incomplete") {
		t.Fatalf("problems %v, warnings %v", res.Problems, res.Warnings)
	}
}

func TestMissingWitnessFile(t *testing.T) {
	_, _, err := ReadFile(filepath.Join(t.TempDir(), "gone.jsonl"))
	if !errors.Is(err, ErrNoWitness) {
		t.Fatalf("err %v, want ErrNoWitness", err)
	}
}

func TestPrimaryWitnessFailureMakesNoCheckpoint(t *testing.T) {
	f := newFixture(t)
	var posted []Checkpoint
	var fail bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var c Checkpoint
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			t.Error(err)
		}
		posted = append(posted, c)
	}))
	defer srv.Close()
	hw := &HTTPWitness{URL: srv.URL}
	cp, err := New(Config{Heads: f.heads, Key: f.key, Signer: "n", Witnesses: []Witness{hw, &FileWitness{path: "closed"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.heads.set(h("a", 1, "a1"))
	if ok, err := cp.Checkpoint(t.Context()); !ok || err != nil {
		t.Fatalf("made %v, err %v", ok, err)
	}
	if len(posted) != 1 || posted[0].Verify(pubOf(f.key)) != nil {
		t.Fatalf("posted %+v", posted)
	}
	if st := cp.Stats(); st.CopyFailed != 1 {
		t.Fatalf("stats %+v: the closed file copy should count as failed", st)
	}
	fail = true
	f.heads.set(h("a", 2, "a2"))
	if ok, err := cp.Checkpoint(t.Context()); ok || err == nil {
		t.Fatalf("primary down: made %v, err %v", ok, err)
	}
	// The same heads are signed once the primary is back.
	fail = false
	if ok, err := cp.Checkpoint(t.Context()); !ok || err != nil {
		t.Fatalf("primary back: made %v, err %v", ok, err)
	}
	if res := Check([]Located{{Checkpoint: posted[0], Line: 1}, {Checkpoint: posted[1], Line: 2}}, pubOf(f.key)); !res.OK() {
		t.Fatalf("problems %v", res.Problems)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "audit-signing.key")
	k1, created, err := LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("create: %v, created %v", err, created)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	k2, created, err := LoadOrCreateKey(path)
	if err != nil || created || !k1.Equal(k2) {
		t.Fatalf("load: %v, created %v, same %v", err, created, k1.Equal(k2))
	}
	for name, in := range map[string][]byte{
		"pem": PublicKeyPEM(pubOf(k1)), "private pem": mustRead(t, path),
		"base64": []byte(" " + encodeB64(pubOf(k1)) + "\n"),
	} {
		pub, err := ParsePublicKey(in)
		if err != nil || !pub.Equal(pubOf(k1)) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := ParsePublicKey([]byte("not a key")); err == nil {
		t.Fatal("garbage parsed as a key")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encodeB64(b []byte) string {
	s, _ := json.Marshal(b)
	return strings.Trim(string(s), `"`)
}
