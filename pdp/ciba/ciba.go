package ciba

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/stepgate/stepgate/pdp/trust"
)

// bindingRule is what a provider accepts as a CIBA binding_message.
type bindingRule struct {
	max     int
	allowed func(r rune) bool
	name    string
}

func alnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// Binding message rules. The portable rule — 1 to 20 of [A-Za-z0-9._+#-] —
// is accepted by every provider stepgate speaks; Auth0 and Keycloak relax it.
var (
	portableBinding = bindingRule{max: 20, name: "1-20 characters of A-Z a-z 0-9 . _ + # -",
		allowed: func(r rune) bool { return alnum(r) || strings.ContainsRune("._+#-", r) }}
	auth0Binding = bindingRule{max: 64, name: "at most 64 characters of A-Z a-z 0-9 space + - _ . , : #",
		allowed: func(r rune) bool { return alnum(r) || strings.ContainsRune(" +-_.,:#", r) }}
	keycloakBinding = bindingRule{max: 50, name: "at most 50 characters of A-Z a-z 0-9 - . _ + / ! ? #",
		allowed: func(r rune) bool { return alnum(r) || strings.ContainsRune("-._+/!?#", r) }}
)

func bindingRuleFor(d trust.Dialect) bindingRule {
	switch d {
	case trust.DialectAuth0:
		return auth0Binding
	case trust.DialectKeycloak:
		return keycloakBinding
	}
	return portableBinding
}

func (r bindingRule) valid(msg string) bool {
	if msg == "" || len(msg) > r.max {
		return false
	}
	for _, c := range msg {
		if !r.allowed(c) {
			return false
		}
	}
	return true
}

// sanitize keeps the allowed characters of msg (spaces become '-' where
// they are not allowed) and truncates it; it may return "".
func (r bindingRule) sanitize(msg string) string {
	var b strings.Builder
	for _, c := range msg {
		if b.Len() >= r.max {
			break
		}
		switch {
		case r.allowed(c):
			b.WriteRune(c)
		case c == ' ' && r.allowed('-'):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), " -")
}

// BindingMessage picks the message shown on both devices. A policy's message
// is used when the dialect accepts it, sanitised (with a reason saying so)
// when it does not; otherwise one is generated from the action, such as
// "PAY-4821", which every provider accepts.
func BindingMessage(d trust.Dialect, policyMsg, action string) (msg, note string, err error) {
	rule := bindingRuleFor(d)
	if policyMsg != "" {
		if rule.valid(policyMsg) {
			return policyMsg, "", nil
		}
		if s := rule.sanitize(policyMsg); s != "" {
			return s, fmt.Sprintf("policy binding_message sanitised to %q (allowed: %s)", s, rule.name), nil
		}
		note = fmt.Sprintf("policy binding_message rejected (allowed: %s); generated one instead", rule.name)
	}
	msg, err = generatedBindingMessage(action)
	return msg, note, err
}

// generatedBindingMessage is a short code the user compares on both screens:
// up to 8 letters from the action's last segment and 4 random digits.
func generatedBindingMessage(action string) (string, error) {
	seg := action
	if i := strings.LastIndexAny(seg, "./:"); i >= 0 {
		seg = seg[i+1:]
	}
	var b strings.Builder
	for _, c := range strings.ToUpper(seg) {
		if b.Len() == 8 {
			break
		}
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		b.WriteString("AUTH")
	}
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		return "", fmt.Errorf("generate binding message: %w", err)
	}
	return fmt.Sprintf("%s-%04d", b.String(), n.Int64()), nil
}

// LoginHint identifies the user to the IdP in its dialect: Auth0 wants
// the iss_sub JSON string, Keycloak a username, others what is configured.
func LoginHint(iss *trust.IssuerConfig, claims map[string]any) (string, error) {
	sub, _ := claims["sub"].(string)
	issuer, _ := claims["iss"].(string)
	format := "sub"
	if iss != nil {
		issuer = iss.Issuer
		switch {
		case iss.CIBA != nil && iss.CIBA.LoginHint != "":
			format = iss.CIBA.LoginHint
		case iss.Dialect == trust.DialectAuth0:
			format = "iss_sub"
		case iss.Dialect == trust.DialectKeycloak:
			format = "username"
		}
	}
	var hint string
	switch format {
	case "iss_sub":
		if sub != "" && issuer != "" {
			b, err := json.Marshal(struct {
				Format string `json:"format"`
				Iss    string `json:"iss"`
				Sub    string `json:"sub"`
			}{"iss_sub", issuer, sub})
			if err != nil {
				return "", fmt.Errorf("encode iss_sub login_hint: %w", err)
			}
			hint = string(b)
		}
	case "email":
		hint, _ = claims["email"].(string)
	case "username":
		hint, _ = claims["preferred_username"].(string)
	default:
		hint = sub
	}
	if hint == "" {
		return "", fmt.Errorf("no %s login hint for this user: the token lacks the claim", format)
	}
	return hint, nil
}
