package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/storage"
)

// TestBootstrapRecordsItsChanges: what the first start sets up, and what
// it changes to follow the config file, is recorded on the process's chain
// under system actors, with no secret in the records.
func TestBootstrapRecordsItsChanges(t *testing.T) {
	ctx := context.Background()
	e := testEnv(t)
	e["STEPGATE_BOOTSTRAP_ADMIN_PASSWORD"] = "a long admin password"
	cfg, err := loadConfig("", e.get)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clients = []ClientConfig{{ID: "svc", Key: "sgk_first-key-of-the-config-file"}}
	a, err := openApp(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(ctx)
	if err := bootstrap(ctx, a.store, a.policies, cfg, e.get, io.Discard); err != nil {
		t.Fatal(err)
	}
	cfg.Clients[0].Key = "sgk_second-key-of-the-config-file"
	if err := bootstrap(ctx, a.store, a.policies, cfg, e.get, io.Discard); err != nil {
		t.Fatal(err)
	}
	e["STEPGATE_BOOTSTRAP_ADMIN_PASSWORD"] = "another long admin password"
	if err := bootstrap(ctx, a.store, a.policies, cfg, e.get, io.Discard); err != nil {
		t.Fatal(err)
	}
	page, err := a.store.SearchAudit(ctx, storage.AuditQuery{Kind: storage.KindAdmin, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(page.Records) - 1; i >= 0; i-- {
		r := page.Records[i]
		var d map[string]any
		if err := json.Unmarshal(r.Detail, &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Action+" "+r.Actor)
		if r.ChainID != cfg.chainID() {
			t.Errorf("%s is on chain %q, want the process's %q", r.Action, r.ChainID, cfg.chainID())
		}
		for _, secret := range []string{"sgk_", clientauth.HashKey("sgk_second-key-of-the-config-file"), "$2a$"} {
			if strings.Contains(string(r.Detail), secret) {
				t.Errorf("%s record carries a secret (%q): %s", r.Action, secret, r.Detail)
			}
		}
	}
	want := []string{
		"policy.push system:bootstrap", "policy.activate system:bootstrap", "client.create system:bootstrap",
		"admin.bootstrap_password.set system:bootstrap", "client.create system:config",
		// The second start: the key changed; the password given is the
		// account's already, so it is not set again (that would end the
		// admin's sessions at every restart).
		"client.update system:config",
		// The third start: another password resets the account's.
		"admin.bootstrap_password.set system:bootstrap",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("admin records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
