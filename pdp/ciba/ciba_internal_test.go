package ciba

import (
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/trust"
)

func TestBindingMessage(t *testing.T) {
	tests := []struct {
		name    string
		dialect trust.Dialect
		policy  string
		want    string // exact, or prefix when ending in "-"
		note    bool
	}{
		{"generated from the action", trust.DialectGeneric, "", "PAY-", false},
		{"valid policy message kept", trust.DialectGeneric, "PAY-4821", "PAY-4821", false},
		{"auth0 allows spaces", trust.DialectAuth0, "Pay 120 JPY", "Pay 120 JPY", false},
		{"generic sanitises spaces", trust.DialectGeneric, "Pay 120 JPY", "Pay-120-JPY", true},
		{"keycloak truncates at 50", trust.DialectKeycloak, strings.Repeat("a", 60), strings.Repeat("a", 50), true},
		{"nothing allowed left", trust.DialectGeneric, "<<>>", "PAY-", true},
		{"control characters removed", trust.DialectAuth0, "ok\u0000\n<script>", "okscript", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, note, err := BindingMessage(tc.dialect, tc.policy, "billing.pay")
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(tc.want, "-") {
				if !strings.HasPrefix(msg, tc.want) || len(msg) != len(tc.want)+4 {
					t.Errorf("message %q, want %s####", msg, tc.want)
				}
			} else if msg != tc.want {
				t.Errorf("message %q, want %q", msg, tc.want)
			}
			if (note != "") != tc.note {
				t.Errorf("note %q, want present=%v", note, tc.note)
			}
			if !bindingRuleFor(tc.dialect).valid(msg) {
				t.Errorf("%q breaks the %s rule", msg, tc.dialect)
			}
		})
	}
}
