package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/policies"
	"github.com/stepgate/stepgate/storage"
)

// devClientID is the client created on first start; it alone may assert
// claims out of the box, so that curl works before an IdP is configured.
const devClientID = "dev"

// The actors of what stepgate changes by itself: first-start setup, and
// clients kept in step with the config file.
const (
	systemActor = "system:bootstrap"
	configActor = "system:config"
)

// bootstrap makes a fresh database usable: the default policy active, the
// development client key and the admin password created and shown once,
// configured clients upserted.
func bootstrap(ctx context.Context, st storage.Store, pol *admin.Policies, cfg Config, env func(string) string, out io.Writer) error {
	if _, err := st.ActiveRevision(ctx); errors.Is(err, storage.ErrNotFound) {
		files, err := policy.ReadFS(policies.Bundle())
		if err != nil {
			return fmt.Errorf("read default policies: %w", err)
		}
		rev, _, err := pol.Push(ctx, systemActor, files, "default policies shipped with stepgate", true)
		if err != nil {
			return fmt.Errorf("activate default policies: %w", err)
		}
		fmt.Fprintf(out, "stepgate: default policies active as revision %d\n", rev.ID)
	} else if err != nil {
		return fmt.Errorf("read active revision: %w", err)
	}

	rec := pol.Recorder()
	key, err := ensureDevClient(ctx, st, rec, env("STEPGATE_BOOTSTRAP_CLIENT_KEY"))
	if err != nil {
		return err
	}
	password, err := admin.EnsureBootstrapPassword(ctx, st, rec, systemActor, env("STEPGATE_BOOTSTRAP_ADMIN_PASSWORD"))
	if err != nil {
		return err
	}
	if key != "" || password != "" {
		fmt.Fprintln(out, "================================================================")
		fmt.Fprintln(out, " stepgate first start: these secrets are shown only this once.")
		if key != "" {
			fmt.Fprintf(out, " decision API client %q key: %s\n", devClientID, key)
		}
		if password != "" {
			fmt.Fprintf(out, " admin UI user %q password:  %s\n", admin.BootstrapAdmin, password)
		}
		fmt.Fprintln(out, "================================================================")
	}
	return upsertClients(ctx, st, rec, cfg.Clients)
}

// ensureDevClient creates the development client on first start. A key in
// STEPGATE_BOOTSTRAP_CLIENT_KEY is used (and never printed); otherwise one
// is generated and returned to be shown once.
func ensureDevClient(ctx context.Context, st storage.Store, rec *admin.Recorder, given string) (shown string, err error) {
	existing, err := st.GetClient(ctx, devClientID)
	switch {
	case err == nil:
		if given != "" && existing.KeyHash != clientauth.HashKey(given) {
			existing.KeyHash = clientauth.HashKey(given)
			return "", saveClient(ctx, st, rec, systemActor, "client.rotate", existing, false)
		}
		return "", nil
	case !errors.Is(err, storage.ErrNotFound):
		return "", fmt.Errorf("read development client: %w", err)
	}
	key := given
	if key == "" {
		if key, err = clientauth.NewClientKey(); err != nil {
			return "", err
		}
		shown = key
	}
	err = saveClient(ctx, st, rec, systemActor, "client.create", storage.Client{ID: devClientID,
		Name: "development client (created on first start)", KeyHash: clientauth.HashKey(key), AssertClaims: true}, true)
	if err != nil {
		return "", fmt.Errorf("create development client: %w", err)
	}
	return shown, nil
}

// upsertClients makes the store agree with the clients in the config file.
func upsertClients(ctx context.Context, st storage.Store, rec *admin.Recorder, clients []ClientConfig) error {
	for _, c := range clients {
		want := storage.Client{ID: c.ID, Name: c.ID, KeyHash: c.keyHash(), AssertClaims: c.AssertClaims, ReturnTo: c.ReturnTo}
		got, err := st.GetClient(ctx, c.ID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			err = saveClient(ctx, st, rec, configActor, "client.create", want, true)
		case err == nil:
			if got.KeyHash != want.KeyHash || got.AssertClaims != want.AssertClaims || !slices.Equal(got.ReturnTo, want.ReturnTo) || got.Disabled {
				want.CreatedAt, want.Name = got.CreatedAt, got.Name
				err = saveClient(ctx, st, rec, configActor, "client.update", want, false)
			}
		}
		if err != nil {
			return fmt.Errorf("configure client %q: %w", c.ID, err)
		}
	}
	return nil
}

// saveClient creates or updates c and records the change, in one
// transaction. The record names what changed, never the key.
func saveClient(ctx context.Context, st storage.Store, rec *admin.Recorder, actor, what string, c storage.Client, create bool) error {
	return st.Atomic(ctx, func(tx storage.Store) error {
		var err error
		if create {
			err = tx.CreateClient(ctx, c)
		} else {
			err = tx.UpdateClient(ctx, c)
		}
		if err != nil {
			return err
		}
		return rec.Change(ctx, tx, actor, what, map[string]any{"client": c.ID, "name": c.Name,
			"assert_claims": c.AssertClaims, "return_to": c.ReturnTo, "disabled": c.Disabled})
	})
}
