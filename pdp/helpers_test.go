package pdp_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/policies"
)

func TestReturnToAllowed(t *testing.T) {
	c := clientauth.Client{ReturnTo: []string{"https://app.example/billing/", "https://shop.example"}}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://app.example/billing/", true},
		{"https://app.example/billing/inv/42?x=1", true},
		{"https://APP.example/billing/x", true},
		{"https://app.example/billingx", false},
		{"https://app.example/", false},
		{"https://app.example.evil/billing/", false},
		{"https://app.example@evil.example/billing/", false},
		{"http://app.example/billing/", false},
		{"https://shop.example/anything", true},
		{"//shop.example/x", false},
		{"/billing/", false},
		{"javascript:alert(1)", false},
	}
	for _, tc := range tests {
		if got := c.ReturnToAllowed(tc.url); got != tc.want {
			t.Errorf("ReturnToAllowed(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestInsufficientAuthChallenge(t *testing.T) {
	age := int64(900)
	got := stepup.InsufficientAuthChallenge(`needs "mfa" \ now`+"\n", []string{"urn:a", "urn:b"}, &age)
	want := `Bearer error="insufficient_user_authentication", error_description="needs 'mfa' ' now?", acr_values="urn:a urn:b", max_age="900"`
	if got != want {
		t.Errorf("challenge\n got %s\nwant %s", got, want)
	}
	if got := stepup.InsufficientAuthChallenge("", nil, nil); got != `Bearer error="insufficient_user_authentication"` {
		t.Errorf("bare challenge %s", got)
	}
}

func TestNormalizeAuthn(t *testing.T) {
	mfaACR := []string{trust.PAPEMultiFactor}
	tests := []struct {
		name    string
		claims  string
		methods []string
		mfa     bool
		age     int64 // -1: absent
	}{
		{"amr set with mfa", `{"amr":["pwd","mfa","pwd"],"auth_time":900}`, []string{"pwd", "mfa"}, true, 100},
		{"amr as a string", `{"amr":"otp","auth_time":1000}`, []string{"otp"}, false, 0},
		{"acr meaning mfa", `{"acr":"` + trust.PAPEMultiFactor + `"}`, []string{}, true, -1},
		{"keycloak level 0", `{"acr":"0","auth_time":1.5e2}`, []string{}, false, 850},
		{"junk amr members", `{"amr":[1,null,"pwd",""],"auth_time":"950"}`, []string{"pwd"}, false, 50},
		{"future auth_time", `{"auth_time":2000}`, []string{}, false, -1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var claims map[string]any
			dec := json.NewDecoder(strings.NewReader(tc.claims))
			dec.UseNumber()
			if err := dec.Decode(&claims); err != nil {
				t.Fatal(err)
			}
			a := policy.NormalizeAuthn(claims, mfaACR, 1000)
			if !slices.Equal(a.Methods, tc.methods) || a.MFA != tc.mfa {
				t.Errorf("authn %+v", a)
			}
			switch {
			case tc.age == -1 && a.Age != nil:
				t.Errorf("age %d, want none", *a.Age)
			case tc.age != -1 && (a.Age == nil || *a.Age != tc.age):
				t.Errorf("age %v, want %d", a.Age, tc.age)
			}
		})
	}
}

func TestBundleRoundTrip(t *testing.T) {
	files, err := policy.ReadFS(policies.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := files.Tarball()
	if err != nil {
		t.Fatal(err)
	}
	again, err := files.Tarball()
	if err != nil || string(again) != string(tgz) {
		t.Fatal("tarball encoding is not deterministic")
	}
	back, err := policy.ReadTarball(tgz)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash() != files.Hash() || len(back) != len(files) {
		t.Fatalf("round trip changed the bundle: %v vs %v", back.Names(), files.Names())
	}
	for _, bad := range []policy.Files{
		{},
		{"../x.rego": []byte("package x")},
		{"/abs.rego": []byte("package x")},
		{"stepgate/notes.txt": []byte("x")},
		{"stepgate/data.json": []byte("{}")},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("bundle %v validated", bad.Names())
		}
	}
	if _, err := policy.ReadTarball([]byte("not gzip")); err == nil {
		t.Error("garbage tarball read")
	}
}
