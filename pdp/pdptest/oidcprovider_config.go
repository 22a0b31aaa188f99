//go:build unix

package pdptest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// scriptConfig is the JSON that provider.mjs reads from STEPGATE_IDP_CONFIG.
type scriptConfig struct {
	Clients  []map[string]any `json:"clients"`
	Users    []ProviderUser   `json:"users"`
	Resource string           `json:"resource"`
}

func (cfg ProviderConfig) scriptConfig() scriptConfig {
	out := scriptConfig{Users: cfg.Users, Resource: cfg.Resource, Clients: []map[string]any{}}
	if len(out.Users) == 0 {
		out.Users = []ProviderUser{{
			Sub: TestUsername, Username: TestUsername, Password: TestPassword,
			OTP: TestOTP, Email: TestUsername + "@example.test",
		}}
	}
	if out.Resource == "" {
		out.Resource = "https://api.stepgate.test"
	}
	for _, c := range cfg.Clients {
		out.Clients = append(out.Clients, c.metadata())
	}
	return out
}

// metadata renders c as oidc-provider client metadata.
func (c ProviderClient) metadata() map[string]any {
	grants, responses := []string{}, []string{}
	if len(c.RedirectURIs) > 0 {
		grants = append(grants, "authorization_code", "refresh_token")
		responses = append(responses, "code")
	}
	if c.CIBA {
		grants = append(grants, "urn:openid:params:grant-type:ciba")
	}
	m := map[string]any{
		"client_id":      c.ID,
		"grant_types":    grants,
		"response_types": responses,
		"redirect_uris":  append([]string{}, c.RedirectURIs...),
	}
	switch {
	case c.Secret == "":
		m["token_endpoint_auth_method"] = "none"
	case c.AuthMethod != "":
		m["client_secret"], m["token_endpoint_auth_method"] = c.Secret, c.AuthMethod
	default:
		m["client_secret"], m["token_endpoint_auth_method"] = c.Secret, "client_secret_basic"
	}
	if c.CIBA {
		m["backchannel_token_delivery_mode"] = "poll"
	}
	return m
}

// providerMetadata is the part of the discovery document tests need.
type providerMetadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	BackchannelEndpoint   string `json:"backchannel_authentication_endpoint"`
}

func fetchMetadata(client *http.Client, issuer string) (providerMetadata, error) {
	var meta providerMetadata
	resp, err := client.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		return meta, fmt.Errorf("fetch provider discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return meta, fmt.Errorf("fetch provider discovery: status %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil {
		return meta, fmt.Errorf("decode provider discovery: %w", err)
	}
	if meta.Issuer != issuer {
		return meta, fmt.Errorf("provider discovery names issuer %q, want %q", meta.Issuer, issuer)
	}
	return meta, nil
}
