package main

import (
	"net/netip"
	"slices"
	"testing"
)

func TestAdminTrustedProxies(t *testing.T) {
	tests := []struct {
		name, env string
		want      []netip.Prefix
		wantErr   bool
	}{
		{name: "default none", env: ""},
		{name: "CIDRs and addresses", env: "10.0.0.0/8, 192.0.2.1,2001:db8::/32",
			want: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8::/32")}},
		{name: "host bits are masked", env: "10.1.2.3/8", want: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		{name: "a name is refused", env: "proxy.internal", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig("", func(k string) string {
				if k == "STEPGATE_ADMIN_TRUSTED_PROXIES" {
					return tc.env
				}
				return ""
			})
			if tc.wantErr {
				if err == nil {
					t.Fatal("loadConfig accepted it")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := cfg.Admin.trustedProxies()
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("trusted proxies %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}
