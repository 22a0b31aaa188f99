package pdp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/policy"
)

var defaultRedact = []string{"email", "name", "given_name", "family_name", "phone_number", "address", "birthdate"}

// legacyRedactedInput is the implementation before redaction paths (it
// removed top-level claims only), kept as the benchmark's baseline.
func legacyRedactedInput(in *policy.Input, redact []string) (json.RawMessage, string) {
	cp := *in
	if len(redact) > 0 && len(in.Subject.Claims) > 0 {
		cp.Subject.Claims = maps.Clone(in.Subject.Claims)
		for _, k := range redact {
			delete(cp.Subject.Claims, k)
		}
	}
	b, _ := json.Marshal(&cp)
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// sampleInput is a typical decision input: an OIDC token's claims, an
// AuthZEN-style subject, a resource and a context.
func sampleInput() *policy.Input {
	age := int64(60)
	return &policy.Input{
		Subject: policy.Subject{Type: "user", ID: "auth0|alice",
			Properties: map[string]any{"department": "sales", "email": "alice@example.com"},
			Claims: map[string]any{"iss": "https://idp.example", "sub": "auth0|alice", "aud": "stepgate", "exp": 1763773100,
				"iat": 1763769500, "auth_time": 1763769440, "amr": []any{"pwd", "mfa"}, "acr": "urn:mace:incommon:iap:silver",
				"email": "alice@example.com", "email_verified": true, "name": "Alice Example", "given_name": "Alice",
				"family_name": "Example", "groups": []any{"billing", "staff"}, "sid": "8a7d7f0e-1f6c",
				"https://example.com/roles": []any{"admin", "auditor"},
				"address":                   map[string]any{"street_address": "1 Main St", "locality": "Springfield", "country": "US"}},
			Authn: &policy.Authn{Methods: []string{"pwd", "mfa"}, MFA: true, Age: &age}},
		Action:   policy.Action{Name: "billing.view"},
		Resource: policy.Resource{Type: "invoice", ID: "inv-42", Properties: map[string]any{"owner": "auth0|alice", "amount": 1200}},
		Context:  map[string]any{"channel": "web", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
		Now:      1763769500,
		Client:   policy.Caller{ID: "billing-app"},
	}
}

func TestRedactedInputListsWhatItRemoved(t *testing.T) {
	in := sampleInput()
	b, digest := redactedInput(in, defaultRedact)
	for _, leak := range []string{"alice@example.com", "Alice", "Springfield"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("stored input carries %q: %s", leak, b)
		}
	}
	var got struct {
		Redacted []string       `json:"redacted"`
		Action   policy.Action  `json:"action"`
		Subject  policy.Subject `json:"subject"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"subject.properties.email", "subject.claims.address", "subject.claims.email", "subject.claims.family_name",
		"subject.claims.given_name", "subject.claims.name"} // document order
	if strings.Join(got.Redacted, ",") != strings.Join(want, ",") {
		t.Errorf("redacted = %q, want %q", got.Redacted, want)
	}
	if got.Action.Name != "billing.view" || got.Subject.Claims["sub"] != "auth0|alice" || got.Subject.Properties["department"] != "sales" {
		t.Errorf("kept values changed: %s", b)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != digest {
		t.Error("digest does not cover the stored bytes")
	}
	if in.Subject.Claims["email"] == nil || in.Subject.Properties["email"] == nil {
		t.Error("redaction changed the caller's input")
	}
}

// BenchmarkRedactInput compares the stored-input rendering of every
// decision: the legacy top-level deletion, the paths walk with the default
// claim names and with rooted paths added, and plain marshalling.
func BenchmarkRedactInput(b *testing.B) {
	in := sampleInput()
	withPaths := append(append([]string(nil), defaultRedact...), "context.ip", "resource.properties.**.owner", "**.ssn")
	cases := []struct {
		name string
		fn   func()
	}{
		{"marshal-only", func() { _, _ = json.Marshal(in) }},
		{"legacy-top-level-claims", func() { legacyRedactedInput(in, defaultRedact) }},
		{"paths-defaults", func() { redactedInput(in, defaultRedact) }},
		{"paths-defaults-and-rooted", func() { redactedInput(in, withPaths) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.fn()
			}
		})
	}
}
