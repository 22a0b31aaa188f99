package trust_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/pdp/trust"
)

func TestNewVerifierValidatesConfig(t *testing.T) {
	t.Parallel()
	iss := func(url string, aud ...string) trust.IssuerConfig {
		return trust.IssuerConfig{Issuer: url, Audiences: aud}
	}
	tests := []struct {
		name    string
		cfg     trust.VerifierConfig
		wantErr string // substring; "" means valid
	}{
		{name: "no issuers", cfg: trust.VerifierConfig{}},
		{name: "https issuer", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("https://tenant.example/", "api")}}},
		{name: "https issuer with path", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("https://kc.example/realms/main", "api")}}},
		{name: "http on 127.0.0.1", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("http://127.0.0.1:8080", "api")}}},
		{name: "http on localhost", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("http://localhost:8080/realms/x", "api")}}},
		{name: "http on ::1", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("http://[::1]:8080", "api")}}},
		{name: "all dialects", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{
			{Issuer: "https://a.example", Audiences: []string{"x"}, Dialect: trust.DialectAuth0},
			{Issuer: "https://b.example", Audiences: []string{"x"}, Dialect: trust.DialectKeycloak},
			{Issuer: "https://c.example", Audiences: []string{"x"}, Dialect: trust.DialectGeneric},
		}}},
		{name: "plain http on a remote host", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("http://idp.example", "api")}}, wantErr: "plain http"},
		{name: "http on a host named like localhost", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("http://localhost.evil.example", "api")}}, wantErr: "plain http"},
		{name: "relative issuer", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("tenant.example", "api")}}, wantErr: "absolute"},
		{name: "empty issuer", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("", "api")}}, wantErr: "absolute"},
		{name: "other scheme", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("ftp://idp.example", "api")}}, wantErr: "https"},
		{name: "issuer with query", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("https://idp.example/?x=1", "api")}}, wantErr: "query"},
		{name: "issuer with user info", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("https://u:p@idp.example", "api")}}, wantErr: "user info"},
		{name: "no audience", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("https://idp.example")}}, wantErr: "audience"},
		{name: "empty audience", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{iss("https://idp.example", "api", "")}}, wantErr: "empty audience"},
		{name: "unknown dialect", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{
			{Issuer: "https://idp.example", Audiences: []string{"api"}, Dialect: "okta"},
		}}, wantErr: "dialect"},
		{name: "duplicate issuer", cfg: trust.VerifierConfig{Issuers: []trust.IssuerConfig{
			iss("https://idp.example", "a"), iss("https://idp.example", "b"),
		}}, wantErr: "duplicate"},
		{name: "negative leeway", cfg: trust.VerifierConfig{Leeway: -time.Second}, wantErr: "leeway"},
		{name: "negative max token bytes", cfg: trust.VerifierConfig{MaxTokenBytes: -1}, wantErr: "max token bytes"},
		{name: "negative cache size disables the cache", cfg: trust.VerifierConfig{CacheSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := trust.NewVerifier(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("NewVerifier: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("NewVerifier error = %v, want one containing %q", err, tt.wantErr)
			case tt.wantErr == "" && len(v.Issuers()) != len(tt.cfg.Issuers):
				t.Fatalf("Issuers() has %d entries, want %d", len(v.Issuers()), len(tt.cfg.Issuers))
			}
		})
	}
}

func TestVerifierIssuers(t *testing.T) {
	t.Parallel()
	aud := []string{"api"}
	cfg := trust.VerifierConfig{Issuers: []trust.IssuerConfig{
		{Issuer: "https://b.example", Audiences: aud, Dialect: trust.DialectKeycloak},
		{Issuer: "https://a.example", Audiences: aud},
	}}
	v, err := trust.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := v.Issuers()
	if got[0].Issuer != "https://b.example" || got[1].Issuer != "https://a.example" {
		t.Fatalf("Issuers() = %+v, want configuration order", got)
	}
	a, ok := v.Issuer("https://a.example")
	if !ok || a.Dialect != trust.DialectGeneric {
		t.Fatalf("Issuer(a) = %+v, %v; want the generic dialect by default", a, ok)
	}
	if _, ok := v.Issuer("https://a.example/"); ok {
		t.Fatal("Issuer matched an issuer string that differs by a trailing slash")
	}
	// The verifier keeps its own copies.
	aud[0] = "changed"
	got[0].Issuer = "https://changed.example"
	if b, _ := v.Issuer("https://b.example"); !slices.Equal(b.Audiences, []string{"api"}) {
		t.Fatalf("audiences changed through the caller's slice: %v", b.Audiences)
	}
	if v.Issuers()[0].Issuer != "https://b.example" {
		t.Fatal("Issuers() exposes the verifier's own slice")
	}
}
