package demostack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

func TestWritePolicyBundle(t *testing.T) {
	tests := []struct {
		name    string
		window  time.Duration
		want    float64
		wantErr bool
	}{
		{"the shipped 15 minutes", DefaultWindow, 900, false},
		{"a test window", 5 * time.Second, 5, false},
		{"fractions are cut to whole seconds", 90*time.Second + 500*time.Millisecond, 90, false},
		{"under a second", 500 * time.Millisecond, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := WritePolicyBundle(dir, tc.window)
			if (err != nil) != tc.wantErr {
				t.Fatalf("WritePolicyBundle: %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			files, err := policy.ReadFS(os.DirFS(dir))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Actions map[string]map[string]any `json:"actions"`
			}
			raw, err := os.ReadFile(filepath.Join(dir, "stepgate", "data.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if got := doc.Actions["billing.view"]["max_age"]; got != tc.want {
				t.Fatalf("billing.view max_age = %v, want %v", got, tc.want)
			}
			if got := doc.Actions["billing.pay"]["ciba"]; got == nil {
				t.Fatal("the other rows were not kept")
			}
			for name := range files {
				if policies.IsTestFile(name) {
					t.Errorf("the bundle contains the shipped test %s", name)
				}
			}
		})
	}
}

func TestStepgateConfigYAML(t *testing.T) {
	c := StepgateConfig{Issuer: "http://127.0.0.1:8720", AppURL: "http://127.0.0.1:8080/", DecisionAddr: "127.0.0.1:0",
		AdminAddr: "127.0.0.1:0", DataDir: "/tmp/x"}
	b, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		LogLevel string               `yaml:"log_level"`
		Issuers  []trust.IssuerConfig `yaml:"issuers"`
		Clients  []map[string]any     `yaml:"clients"`
	}
	if err := yaml.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Issuers) != 1 || len(got.Clients) != 1 || got.LogLevel != "warn" {
		t.Fatalf("config:\n%s", b)
	}
	is := got.Issuers[0]
	if is.Authorize == nil || is.Authorize.RedirectURI != "http://127.0.0.1:8080/callback" || is.EffectiveACRRequest() != trust.ACRRequestClaims {
		t.Errorf("issuer authorize %+v, acr request %s", is.Authorize, is.EffectiveACRRequest())
	}
	if is.CIBA == nil || is.CIBA.ClientSecret != CIBASecret || is.CIBA.LoginHint != "sub" {
		t.Errorf("issuer CIBA %+v", is.CIBA)
	}
	if cl := got.Clients[0]; cl["id"] != AppClientID || cl["key"] != AppKey || cl["assert_claims"] != false {
		t.Errorf("client %v", cl)
	}
	if _, err := (StepgateConfig{}).YAML(); err == nil {
		t.Error("an empty config rendered")
	}
}

func TestProviderConfig(t *testing.T) {
	b, err := ProviderConfig("http://127.0.0.1:8080", 8720)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Port    int              `json:"port"`
		Clients []map[string]any `json:"clients"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Port != 8720 || len(got.Clients) != 2 {
		t.Fatalf("provider config %s", b)
	}
	uris, _ := json.Marshal(got.Clients[0]["redirect_uris"])
	if !strings.Contains(string(uris), "/login/callback") || !strings.Contains(string(uris), `8080/callback"`) {
		t.Errorf("app redirect URIs %s", uris)
	}
}
