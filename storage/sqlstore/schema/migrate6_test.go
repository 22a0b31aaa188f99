package schema

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
)

// TestMigration6MovesTheBootstrapAdminAndBackfillsTheTimeline upgrades a
// version 5 database that has a bootstrap password and three activations:
// the password becomes the enabled admin account "admin" (so the same
// password still signs in), the setting is gone, and each revision that was
// active gets its last activation as a period, ended by the next one.
func TestMigration6MovesTheBootstrapAdminAndBackfillsTheTimeline(t *testing.T) {
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
	upTo(5)
	for _, stmt := range []string{
		`INSERT INTO settings (name, value) VALUES ('admin.bootstrap_password_hash', '$2a$10$thehash')`,
		`INSERT INTO settings (name, value) VALUES ('other', 'kept')`,
		`INSERT INTO policy_revisions (id, bundle, hash, state, created_at, activated_at, activated_by) VALUES
			(1, x'00', 'a', 'archived', 1, 100, 'system:bootstrap'),
			(2, x'00', 'b', 'archived', 2, 200, 'admin'),
			(3, x'00', 'c', 'active', 3, 300, 'cli:ops'),
			(4, x'00', 'd', 'draft', 4, NULL, '')`,
	} {
		if err := db.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	upTo(6)

	var user struct {
		Name, Role, PasswordHash string
		Disabled                 bool
		Version                  int64
	}
	if err := db.Raw(`SELECT name, role, password_hash, disabled, version FROM admin_users`).Scan(&user).Error; err != nil {
		t.Fatal(err)
	}
	if user.Name != "admin" || user.Role != "admin" || user.PasswordHash != "$2a$10$thehash" || user.Disabled || user.Version != 1 {
		t.Errorf("bootstrap admin after migration = %+v", user)
	}
	var settings []string
	db.Raw(`SELECT name FROM settings ORDER BY name`).Scan(&settings)
	if len(settings) != 1 || settings[0] != "other" {
		t.Errorf("settings after migration = %v, want only the unrelated one", settings)
	}
	var periods []struct {
		RevisionID  int64
		Kind        string
		ActivatedAt int64
		ActivatedBy string
		EndedAt     *int64
	}
	if err := db.Raw(`SELECT revision_id, kind, activated_at, activated_by, ended_at FROM policy_activations ORDER BY activated_at`).
		Scan(&periods).Error; err != nil {
		t.Fatal(err)
	}
	if len(periods) != 3 {
		t.Fatalf("periods = %+v, want one per revision that was active", periods)
	}
	for i, want := range []struct {
		rev, at int64
		by      string
		ended   int64
	}{{1, 100, "system:bootstrap", 200}, {2, 200, "admin", 300}, {3, 300, "cli:ops", 0}} {
		p := periods[i]
		ended := int64(0)
		if p.EndedAt != nil {
			ended = *p.EndedAt
		}
		if p.RevisionID != want.rev || p.ActivatedAt != want.at || p.ActivatedBy != want.by || ended != want.ended || p.Kind != "earlier" {
			t.Errorf("period %d = %+v, want %+v", i, p, want)
		}
	}
}
