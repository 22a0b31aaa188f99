package main

import "testing"

// TestExtAuthzAddr: ext_authz is on when forward_auth.ext_authz_addr or
// the environment names an address, the environment winning; never
// without forward_auth.
func TestExtAuthzAddr(t *testing.T) {
	none := func(string) string { return "" }
	set := func(string) string { return "127.0.0.1:9000" }
	var off *ForwardAuthConfig
	if got := off.extAuthzAddr(set); got != "" {
		t.Errorf("without forward_auth: %q", got)
	}
	f := &ForwardAuthConfig{ExtAuthzAddr: "127.0.0.1:8712"}
	if got := f.extAuthzAddr(none); got != "127.0.0.1:8712" {
		t.Errorf("from YAML: %q", got)
	}
	if got := f.extAuthzAddr(set); got != "127.0.0.1:9000" {
		t.Errorf("the environment should win: %q", got)
	}
}
