package demostack

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stepgate/stepgate/pdp/trust"
)

// Names and development secrets shared by the provider, stepgate and the
// app. They are for a loopback demo only.
const (
	// AppClientID is the billing app's OAuth client at the provider and its
	// decision API client at stepgate.
	AppClientID = "billing-web"
	// AppKey is the app's stepgate client key.
	AppKey = "sgk_billing-demo-app-key-not-secret"
	// DevKey is stepgate's development client key (may assert claims; for curl).
	DevKey = "sgk_billing-demo-dev-key-not-secret"
	// AdminPassword is the stepgate admin UI password of user "admin".
	AdminPassword = "billing-demo-admin"
	// CIBAClientID and CIBASecret are stepgate's confidential CIBA client.
	CIBAClientID = "billing-ciba"
	CIBASecret   = "billing-ciba-secret-not-secret"
	// Resource is the audience of the provider's JWT access tokens.
	Resource = "https://billing-api.demo.test"
	// Username, Password and OTP are the demo user's credentials.
	Username = "alice"
	Password = "alice-password"
	OTP      = "123456"
	// PhonelessUsername and PhonelessPassword are a second user, with the
	// same OTP, who has no phone that can approve: call-centre payments
	// fall back from ciba to a fresh sign-in.
	PhonelessUsername = "bob"
	PhonelessPassword = "bob-password"
)

// EnrollmentPath is the app's answer to stepgate's enrollment lookup
// (issuers[].ciba.enrollment, mode http): which users have the simulated
// phone.
const EnrollmentPath = "/phone/enrollment"

// Paths of the app's OAuth redirect URIs.
const (
	// SignInCallbackPath ends the app's own (password) sign-in.
	SignInCallbackPath = "/login/callback"
	// StepUpCallbackPath ends a step-up stepgate asked for.
	StepUpCallbackPath = "/callback"
)

// StepgateConfig is what the demo's stepgate.yaml is made of.
type StepgateConfig struct {
	// Issuer is the provider's issuer URL.
	Issuer string
	// AppURL is the app's base URL, e.g. http://127.0.0.1:8080.
	AppURL string
	// DecisionAddr and AdminAddr are the listeners (port 0 picks one).
	DecisionAddr, AdminAddr string
	// DataDir holds stepgate's SQLite database.
	DataDir string
	// LogLevel defaults to warn.
	LogLevel string
}

type stepgateFile struct {
	DecisionAddr string               `yaml:"decision_addr"`
	AdminAddr    string               `yaml:"admin_addr"`
	DataDir      string               `yaml:"data_dir"`
	LogLevel     string               `yaml:"log_level"`
	Issuers      []trust.IssuerConfig `yaml:"issuers"`
	Clients      []stepgateClient     `yaml:"clients"`
}

type stepgateClient struct {
	ID           string   `yaml:"id"`
	Key          string   `yaml:"key"`
	AssertClaims bool     `yaml:"assert_claims"`
	ReturnTo     []string `yaml:"return_to"`
}

// IssuerConfig returns the issuer entry: tokens of the provider for the resource
// or the app; step-up asks for the multi-factor acr with an essential acr
// claims request (acr_values alone lets oidc-provider reuse a fresh
// password login); CIBA with the user's sub as login_hint, for users the
// app says have a phone.
func (c StepgateConfig) IssuerConfig() trust.IssuerConfig {
	return trust.IssuerConfig{
		Issuer:       c.Issuer,
		Audiences:    []string{Resource, AppClientID},
		Dialect:      trust.DialectGeneric,
		MFAACRValues: []string{trust.PAPEMultiFactor},
		ACRRequest:   trust.ACRRequestClaims,
		Authorize: &trust.AuthorizeConfig{ClientID: AppClientID, RedirectURI: strings.TrimSuffix(c.AppURL, "/") + StepUpCallbackPath,
			Scopes: []string{"openid"}},
		CIBA: &trust.CIBAConfig{ClientID: CIBAClientID, ClientSecret: CIBASecret, LoginHint: "sub",
			Enrollment: &trust.EnrollmentConfig{Mode: trust.EnrollmentHTTP, URL: strings.TrimSuffix(c.AppURL, "/") + EnrollmentPath + "?sub={sub}"}},
	}
}

// YAML renders stepgate.yaml.
func (c StepgateConfig) YAML() ([]byte, error) {
	if c.Issuer == "" || c.AppURL == "" || c.DataDir == "" || c.DecisionAddr == "" || c.AdminAddr == "" {
		return nil, errors.New("stepgate config: issuer, app URL, data dir and both addresses are required")
	}
	level := c.LogLevel
	if level == "" {
		level = "warn"
	}
	f := stepgateFile{DecisionAddr: c.DecisionAddr, AdminAddr: c.AdminAddr, DataDir: c.DataDir, LogLevel: level,
		Issuers: []trust.IssuerConfig{c.IssuerConfig()},
		Clients: []stepgateClient{{ID: AppClientID, Key: AppKey, ReturnTo: []string{strings.TrimSuffix(c.AppURL, "/") + "/"}}}}
	b, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("stepgate config: %w", err)
	}
	return b, nil
}

// Env is the environment stepgate runs with besides the config file: the
// fixed development client key and admin password, so that nothing random
// is printed and the launcher can show them.
func (c StepgateConfig) Env(configFile string) []string {
	return []string{"STEPGATE_CONFIG=" + configFile, "STEPGATE_BOOTSTRAP_CLIENT_KEY=" + DevKey,
		"STEPGATE_BOOTSTRAP_ADMIN_PASSWORD=" + AdminPassword}
}

// ProviderConfig is the JSON provider.mjs reads (the launcher's fixed-port
// provider; tests use pdptest.StartOIDCProvider with AppRedirectURIs).
func ProviderConfig(appURL string, port int) ([]byte, error) {
	b, err := json.Marshal(map[string]any{
		"port":     port,
		"resource": Resource,
		"users": []map[string]string{{"sub": Username, "username": Username, "password": Password, "otp": OTP,
			"email": Username + "@example.test"}, {"sub": PhonelessUsername, "username": PhonelessUsername,
			"password": PhonelessPassword, "otp": OTP, "email": PhonelessUsername + "@example.test"}},
		"clients": []map[string]any{
			{"client_id": AppClientID, "token_endpoint_auth_method": "none", "redirect_uris": AppRedirectURIs(appURL),
				"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"}},
			{"client_id": CIBAClientID, "client_secret": CIBASecret, "token_endpoint_auth_method": "client_secret_basic",
				"redirect_uris": []string{}, "response_types": []string{}, "grant_types": []string{"urn:openid:params:grant-type:ciba"},
				"backchannel_token_delivery_mode": "poll"},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("provider config: %w", err)
	}
	return b, nil
}

// AppRedirectURIs are the app client's registered redirect URIs: its own
// sign-in and the step-up callback.
func AppRedirectURIs(appURL string) []string {
	base := strings.TrimSuffix(appURL, "/")
	return []string{base + SignInCallbackPath, base + StepUpCallbackPath}
}
