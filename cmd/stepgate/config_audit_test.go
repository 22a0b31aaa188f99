package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

func TestAuditRedactAndSpillConfig(t *testing.T) {
	dir := t.TempDir()
	defaults := []string{"email", "name", "given_name", "family_name", "phone_number", "address", "birthdate"}
	for _, tc := range []struct {
		name, yaml string
		env        env
		paths      []string
		spill      string
	}{
		{name: "defaults", paths: defaults, spill: "./data"},
		{name: "redact_claims adds to the defaults", yaml: "audit:\n  redact_claims: [employee_id, email]\n",
			paths: append(slices.Clone(defaults), "employee_id"), spill: "./data"},
		{name: "redact adds paths", yaml: "audit:\n  redact_claims: [employee_id]\n  redact: [context.card.number, '**.iban']\n",
			paths: append(slices.Clone(defaults), "employee_id", "context.card.number", "**.iban"), spill: "./data"},
		{name: "defaults dropped explicitly", yaml: "audit:\n  redact_keep_defaults: false\n  redact: [subject.claims.email]\n",
			paths: []string{"subject.claims.email"}, spill: "./data"},
		{name: "spill dir follows the data dir", env: env{"STEPGATE_DATA_DIR": "/var/lib/stepgate"},
			paths: defaults, spill: "/var/lib/stepgate"},
		{name: "spill dir set", yaml: "audit:\n  spill_dir: /srv/spill\n", paths: defaults, spill: "/srv/spill"},
		{name: "spill dir from the environment", env: env{"STEPGATE_AUDIT_SPILL_DIR": "/run/spill"}, paths: defaults, spill: "/run/spill"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(file, tc.env.get)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Audit.redactPaths(); !slices.Equal(got, tc.paths) {
				t.Errorf("redact paths = %q, want %q", got, tc.paths)
			}
			if got := cfg.auditSpillDir(); got != tc.spill {
				t.Errorf("spill dir = %q, want %q", got, tc.spill)
			}
		})
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad path", "audit:\n  redact: [context..card]\n", "audit.redact"},
		{"whole input", "audit:\n  redact: ['**']\n", "audit.redact"},
		{"bad claim", "audit:\n  redact_claims: ['*']\n", "audit.redact_claims"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := loadConfig(file, env{}.get); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// The configured redaction reaches serve's decision path: nested claim
// e-mails, an added claim and a configured path never reach the stored
// record, and the record lists them.
func TestServeRedactsTheStoredInput(t *testing.T) {
	e := testEnv(t)
	cfgFile := filepath.Join(t.TempDir(), "stepgate.yaml")
	if err := os.WriteFile(cfgFile, []byte("audit:\n  redact_claims: [employee_id]\n  redact: [context.card.number]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e["STEPGATE_CONFIG"] = cfgFile
	s := startServer(t, e)
	key := keyRE.FindStringSubmatch(s.out.String())[1]
	body := fmt.Sprintf(`{"claims":{"sub":"alice","amr":["pwd","mfa"],"auth_time":%d,"email":"alice@example.com","employee_id":"E-1234",`+
		`"profile":{"email":"alice@example.com"}},"action":"billing.view","context":{"card":{"number":"4111111111111111","brand":"visa"}}}`,
		time.Now().Unix()-60)
	d := s.decide(t, key, body)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(t.Context(), sqlstore.Config{URL: sqlstore.DefaultSQLiteURL(e["STEPGATE_DATA_DIR"])})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var found bool
	if err := st.ExportAudit(t.Context(), storage.AuditQuery{}, func(r storage.AuditRecord) error {
		if r.DecisionID != d["decision_id"] {
			return nil
		}
		found = true
		in := string(r.Input)
		for _, leak := range []string{"alice@example.com", "E-1234", "4111111111111111"} {
			if strings.Contains(in, leak) {
				t.Errorf("stored input carries %q: %s", leak, in)
			}
		}
		if !strings.Contains(in, `"redacted":["subject.claims.email","subject.claims.employee_id","subject.claims.profile.email","context.card.number"]`) {
			t.Errorf("stored input does not list what was removed: %s", in)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("decision %v not in the trail", d["decision_id"])
	}
}
