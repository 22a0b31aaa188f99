package schema

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
)

// TestMigration9DropsThePlainSubjectAndActionIndexes upgrades a version 8
// database: the plain subject and action indexes are gone, the fold indexes
// stay, and SQLite serves an exact subject search, written as auditsearch's
// foldedExact writes it, from the fold index without sorting.
func TestMigration9DropsThePlainSubjectAndActionIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := gorm.Open(sqlite.Open(filepath.Join(t.TempDir(), "m.db")), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	all := migrations
	upTo := func(v int) {
		t.Helper()
		n := 0
		for n < len(all) && all[n].version <= v {
			n++
		}
		migrations = all[:n]
		defer func() { migrations = all }()
		if err := Migrate(ctx, db, false, time.Unix(0, 0), slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	}
	indexes := func() []string {
		t.Helper()
		var names []string
		if err := db.Raw(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_records' AND sql IS NOT NULL`).
			Scan(&names).Error; err != nil {
			t.Fatal(err)
		}
		return names
	}
	upTo(8)
	if got := indexes(); !slices.Contains(got, "audit_records_subject") || !slices.Contains(got, "audit_records_action") {
		t.Fatalf("indexes at version 8 = %v, want the plain subject and action ones", got)
	}
	upTo(9)
	got := indexes()
	for _, gone := range []string{"audit_records_subject", "audit_records_action"} {
		if slices.Contains(got, gone) {
			t.Errorf("index %s survived migration 9", gone)
		}
	}
	for _, kept := range []string{"audit_records_subject_fold", "audit_records_action_fold", "audit_records_ts", "audit_records_chain_seq", "audit_records_decision"} {
		if !slices.Contains(got, kept) {
			t.Errorf("index %s dropped by migration 9", kept)
		}
	}

	var plan []struct{ Detail string }
	if err := db.Raw(`EXPLAIN QUERY PLAN SELECT id FROM audit_records
		WHERE lower(subject) = lower(?) AND +subject = ? ORDER BY ts DESC, id DESC LIMIT 51`, "Alice", "Alice").
		Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, p := range plan {
		steps = append(steps, p.Detail)
	}
	text := strings.Join(steps, "; ")
	if !strings.Contains(text, "audit_records_subject_fold") || strings.Contains(text, "TEMP B-TREE") {
		t.Errorf("exact subject plan = %q, want a scan of audit_records_subject_fold without a sort", text)
	}
}
