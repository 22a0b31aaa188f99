package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// entryEdgeStrings are strings whose JSON encoding differs from their text:
// quotes and backslashes, HTML escapes, control characters, invalid UTF-8,
// the line and paragraph separators, and non-ASCII text.
var entryEdgeStrings = []string{"", "plain-ascii_1.2", `say "hi"`, `back\slash`, "<script>&amp;</script>",
	"tab\there\nnew\rline\b\f\x00\x1f", "bad\xffutf8\xc3", "sep\u2028\u2029", "Zoë 日本 🎉", "\x7f del"}

func entryRecord(s string, i int) storage.AuditRecord {
	r := storage.AuditRecord{ID: int64(i), ChainID: s, Seq: int64(i * 7), Kind: s, DecisionID: s, RequestID: s,
		ClientID: s, Subject: s, Issuer: s, Action: s, ResourceType: s, ResourceID: s, Outcome: s,
		PolicyRevision: int64(i), PolicyHash: s, LatencyMicros: int64(-i), InputDigest: s, StepUpID: s,
		CIBAID: s, Actor: s, PrevHash: s, Hash: s,
		Time: time.Date(2026, 12, 4, 15, 4, 5, i*1000, time.UTC)}
	if i%2 == 1 {
		r.Reasons = []string{s, "second " + s}
		r.Input = []byte(s + `{"a":1}`)
		r.Detail = []byte(s)
	}
	if i%3 == 2 {
		r.Reasons = []string{}
		r.Input = []byte{}
	}
	return r
}

func assertEntryMatchesJSON(t *testing.T, r storage.AuditRecord) {
	t.Helper()
	want, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("kept")
	got, err := encodeEntry(bytes.Clone(prefix), &r)
	if err != nil {
		t.Fatalf("encodeEntry: %v", err)
	}
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("encodeEntry wrote\n%s\nencoding/json writes\n%s", got[len(prefix):], want)
	}
	// The decoded record (invalid UTF-8 comes back as U+FFFD, as from any
	// JSON) encodes the same both ways too.
	back, err := decodeEntry(got[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	want, _ = json.Marshal(&back)
	if again, _ := encodeEntry(nil, &back); !bytes.Equal(again, want) {
		t.Fatalf("decoded entry encodes as\n%s\nencoding/json writes\n%s", again, want)
	}
}

// TestEntryEncodingMatchesJSON holds the hand-written journal entry encoder
// to encoding/json's bytes, so journals written before it (by json.Marshal)
// and after it are one format.
func TestEntryEncodingMatchesJSON(t *testing.T) {
	for i, s := range entryEdgeStrings {
		assertEntryMatchesJSON(t, entryRecord(s, i))
	}
	assertEntryMatchesJSON(t, storage.AuditRecord{})
	assertEntryMatchesJSON(t, storage.AuditRecord{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))})
	if _, err := encodeEntry(nil, &storage.AuditRecord{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Fatal("a time encoding/json refuses was encoded")
	}
}

func FuzzEntryEncodingMatchesJSON(f *testing.F) {
	for i, s := range entryEdgeStrings {
		f.Add(s, int64(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, s string, n int64, p []byte) {
		r := entryRecord(s, int(n%5))
		r.ID, r.Seq, r.PolicyRevision, r.LatencyMicros = n, -n, n/3, n%1000
		r.Input, r.Detail = p, p
		r.Reasons = []string{s, string(p)}
		r.Time = time.Unix(0, n%(1<<60)).UTC()
		assertEntryMatchesJSON(t, r)
	})
}
