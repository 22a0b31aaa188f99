package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
)

// TestSyncRevision: one pass of the revision watcher puts in force a
// revision that another process activated in the store, at once; a
// revision that does not compile leaves the last good one in force.
func TestSyncRevision(t *testing.T) {
	ctx := context.Background()
	e := testEnv(t)
	cfg, err := loadConfig("", e.get)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(ctx)
	if err := bootstrap(ctx, a.store, a.policies, cfg, e.get, io.Discard); err != nil {
		t.Fatal(err)
	}
	first := activeRevision(t, a)

	// As another replica or the CLI does: straight into the store, without
	// this process's activation hook.
	activateElsewhere := func(extra string) int64 {
		t.Helper()
		files, err := policy.ReadFS(policies.Bundle())
		if err != nil {
			t.Fatal(err)
		}
		files["stepgate/extra.rego"] = []byte(extra)
		tarball, err := files.Tarball()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(tarball)
		rev, err := a.store.CreateRevision(ctx, storage.PolicyRevision{Bundle: tarball, Hash: hex.EncodeToString(sum[:]), Author: "elsewhere"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.store.ActivateRevision(ctx, rev.ID, "elsewhere", time.Now()); err != nil {
			t.Fatal(err)
		}
		return rev.ID
	}

	good := activateElsewhere("package stepgate.extra\n\nmarker := 1\n")
	if got := activeRevision(t, a); got != first {
		t.Fatalf("revision %d in force before the watcher ran, want %d", got, first)
	}
	a.syncRevision(ctx)
	if got := activeRevision(t, a); got != good {
		t.Fatalf("after one watcher pass revision %d is in force, want the activated %d", got, good)
	}

	broken := activateElsewhere("package stepgate.extra\n\nmarker := \n")
	a.syncRevision(ctx)
	if got := activeRevision(t, a); got != good {
		t.Fatalf("after activating the broken revision %d, revision %d is in force, want the last good %d", broken, got, good)
	}
}

func activeRevision(t *testing.T, a *app) int64 {
	t.Helper()
	p := a.engine.Active()
	if p == nil {
		t.Fatal("no policy in force")
	}
	id, _ := p.Revision()
	return id
}
