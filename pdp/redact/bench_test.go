package redact_test

import (
	"testing"

	"github.com/stepgate/stepgate/pdp/redact"
)

// A policy input as json.Marshal renders it for a decision with OIDC
// claims, an AuthZEN-style subject, a resource and a context.
const benchInput = `{"subject":{"type":"user","id":"auth0|alice","properties":{"department":"sales","email":"alice@example.com"},"claims":{"acr":"urn:mace:incommon:iap:silver","address":{"country":"US","locality":"Springfield","street_address":"1 Main St"},"amr":["pwd","mfa"],"aud":"stepgate","auth_time":1763769440,"email":"alice@example.com","email_verified":true,"exp":1763773100,"family_name":"Example","given_name":"Alice","groups":["billing","staff"],"https://example.com/roles":["admin","auditor"],"iat":1763769500,"iss":"https://idp.example","name":"Alice Example","sid":"8a7d7f0e-1f6c","sub":"auth0|alice"},"authn":{"methods":["pwd","mfa"],"mfa":true,"age":60}},"action":{"name":"billing.view","properties":null},"resource":{"type":"invoice","id":"inv-42","properties":{"amount":1200,"owner":"auth0|alice"}},"context":{"channel":"web","ip":"203.0.113.7","user_agent":"Mozilla/5.0"},"now":1763769500,"client":{"id":"billing-app"}}`

// BenchmarkObject measures the walk alone, with the default claim names.
func BenchmarkObject(b *testing.B) {
	doc := []byte(benchInput)
	paths := []string{"email", "name", "given_name", "family_name", "phone_number", "address", "birthdate"}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := redact.Object(doc, paths); err != nil {
			b.Fatal(err)
		}
	}
}
