package adminhttp_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"

	"github.com/stepgate/stepgate/admin/adminhttp"
	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage/anchor"
)

// TestChainVerificationPageUsesCheckpoints: the UI's chain check reads the
// signed checkpoints, so it finds records cut from the end of the chain
// with the stored head moved back, which the chain alone cannot.
func TestChainVerificationPageUsesCheckpoints(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	anchoring := &trail.Anchoring{WitnessFiles: []string{filepath.Join(t.TempDir(), "checkpoints.jsonl")},
		PublicKey: key.Public().(ed25519.PublicKey)}
	e := newEnv(t, func(c *adminhttp.Config) { c.Anchoring = anchoring })
	auditFixture(e)
	b := e.browser()
	b.signIn()

	// No witness yet: reported, not passed over.
	mustContain(t, b.post("/audit/verify", nil), "Broken", "witness file does not exist")

	fw, err := anchor.NewFileWitness(anchoring.WitnessFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	cp, err := anchor.New(anchor.Config{Heads: e.store, Key: key, Signer: "test", Witnesses: []anchor.Witness{fw}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.post("/audit/verify", nil), "Intact", "against 1 signed checkpoint(s)", "verified with key <code>"+anchor.KeyID(anchoring.PublicKey))

	auditFixture(e) // six more records, after the checkpoint
	mustContain(t, b.post("/audit/verify", nil), "Intact", "Not yet anchored", `id="unanchored"`)

	db, err := gorm.Open(sqlite.Open(e.dbPath), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var head struct{ LastSeq int64 }
	if err := db.Raw(`SELECT last_seq FROM audit_chains WHERE chain_id = 'test'`).Scan(&head).Error; err != nil {
		t.Fatal(err)
	}
	// Cut everything after the checkpoint and two signed records, then
	// move the head back to what remains.
	cut := head.LastSeq - 8
	for _, q := range []string{
		`DELETE FROM audit_records WHERE chain_id = 'test' AND seq > ?`,
		`UPDATE audit_chains SET last_seq = ?, last_hash = (SELECT hash FROM audit_records WHERE chain_id = 'test' AND seq = ?) WHERE chain_id = 'test'`,
	} {
		if err := db.Exec(q, cut, cut).Error; err != nil {
			t.Fatal(err)
		}
	}
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
	mustContain(t, b.post("/audit/verify", nil), "Broken", "were signed in the checkpoint", "(deleted)")
}
