package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/stepgate/stepgate/storage/anchor"
)

// TestDockerComposeIsValid keeps docker-compose.yml honest without a Docker
// engine: it parses, has the production shape (PostgreSQL, two replicas with
// distinct audit chains, a proxy, Keycloak), and the stepgate configuration
// and Keycloak realm it embeds are accepted by stepgate's own config loader
// and are valid JSON.
func TestDockerComposeIsValid(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			Configs     []struct {
				Source string `yaml:"source"`
				Target string `yaml:"target"`
			} `yaml:"configs"`
			DependsOn any      `yaml:"depends_on"`
			Volumes   []string `yaml:"volumes"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
		Configs map[string]struct {
			Content string `yaml:"content"`
		} `yaml:"configs"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"postgres", "stepgate-1", "stepgate-2", "proxy", "keycloak"} {
		if _, ok := compose.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	chains := map[string]bool{}
	for _, name := range []string{"stepgate-1", "stepgate-2"} {
		s := compose.Services[name]
		if s.Build == nil || s.Environment["STEPGATE_DATABASE_URL"] == "" {
			t.Errorf("%s: not built from this repository or not on PostgreSQL: %+v", name, s)
		}
		chains[s.Environment["STEPGATE_AUDIT_CHAIN_ID"]] = true
		// The data dir holds the replica's audit journal (records answered
		// and not yet in PostgreSQL): it must outlive the container.
		kept := false
		for _, v := range s.Volumes {
			src, dst, _ := strings.Cut(v, ":")
			if _, named := compose.Volumes[src]; named && dst == "/var/lib/stepgate" {
				kept = true
			}
		}
		if !kept {
			t.Errorf("%s: no named volume at its data dir /var/lib/stepgate: %v", name, s.Volumes)
		}
	}
	if len(chains) != 2 || chains[""] {
		t.Errorf("replicas need distinct audit chain ids, got %v", chains)
	}
	for name, s := range compose.Services {
		for _, c := range s.Configs {
			if _, ok := compose.Configs[c.Source]; !ok {
				t.Errorf("service %s uses undefined config %s", name, c.Source)
			}
		}
	}
	cfgFile := filepath.Join(t.TempDir(), "stepgate.yaml")
	if err := os.WriteFile(cfgFile, []byte(compose.Configs["stepgate-config"].Content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cfgFile, env{}.get)
	if err != nil {
		t.Fatalf("embedded stepgate config: %v", err)
	}
	if len(cfg.Issuers) != 1 || cfg.Issuers[0].CIBA == nil || cfg.Issuers[0].Authorize == nil {
		t.Errorf("embedded config lacks the Keycloak issuer: %+v", cfg.Issuers)
	}
	var realm map[string]any
	if err := json.Unmarshal([]byte(compose.Configs["keycloak-realm"].Content), &realm); err != nil {
		t.Fatalf("embedded Keycloak realm: %v", err)
	}
	// Both replicas sign checkpoints with the one key the file provides,
	// so one public key verifies the whole trail.
	if _, err := anchor.ParsePrivateKey([]byte(compose.Configs["audit-signing-key"].Content)); err != nil {
		t.Errorf("embedded audit signing key: %v", err)
	}
	for _, name := range []string{"stepgate-1", "stepgate-2"} {
		if f := compose.Services[name].Environment["STEPGATE_AUDIT_SIGNING_KEY_FILE"]; f != "/etc/stepgate/audit-signing.key" {
			t.Errorf("%s: STEPGATE_AUDIT_SIGNING_KEY_FILE = %q, want the shared key", name, f)
		}
	}
	if _, err := os.Stat(filepath.Join("..", "..", "Dockerfile")); err != nil {
		t.Errorf("Dockerfile: %v", err)
	}
}
