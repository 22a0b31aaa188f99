package trust

import (
	"slices"
	"time"

	"github.com/stepgate/stepgate/pdp/policy"
)

// Dialect names the acr/amr vocabulary and CIBA hint format of an IdP.
type Dialect string

// The dialects stepgate speaks.
const (
	DialectGeneric  Dialect = "generic"
	DialectAuth0    Dialect = "auth0"
	DialectKeycloak Dialect = "keycloak"
)

// PAPEMultiFactor is the acr value Auth0 (and the OpenID PAPE profile) use for
// multi-factor authentication.
const PAPEMultiFactor = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"

// IssuerConfig describes one identity provider whose tokens stepgate verifies.
type IssuerConfig struct {
	// Issuer is the exact `iss` value; OIDC discovery runs against it.
	Issuer string `yaml:"issuer" json:"issuer"`
	// Audiences are the accepted `aud` values (for ID tokens: the client id).
	Audiences []string `yaml:"audiences" json:"audiences"`
	// Dialect defaults to generic.
	Dialect Dialect `yaml:"dialect" json:"dialect"`
	// MFAACRValues are acr values meaning MFA at this issuer: sent as
	// acr_values on step-up and accepted as proof. Default: the PAPE MFA URI
	// (auth0, generic); none for keycloak.
	MFAACRValues []string `yaml:"mfa_acr_values" json:"mfa_acr_values"`
	// ACRRequest is how a step-up asks for the acr: "acr_values" (a
	// voluntary request the IdP may answer with less, which verification
	// then refuses), "claims" (an essential acr claims request, which makes
	// the IdP fail rather than answer with less) or "both". Default by
	// dialect: auth0 acr_values (Auth0 has no claims parameter), keycloak
	// claims, generic acr_values. Some providers let acr_values replace an
	// essential claims request, so "both" is not always the strongest.
	ACRRequest string `yaml:"acr_request" json:"acr_request,omitempty"`
	// Authorize is the app client that step-up URLs are built for.
	Authorize *AuthorizeConfig `yaml:"authorize" json:"authorize,omitempty"`
	// CIBA, when set, lets stepgate run the backchannel exchange itself.
	CIBA *CIBAConfig `yaml:"ciba" json:"ciba,omitempty"`
	// JWKSRefreshMin is the least time a fetched key set is used before it
	// is fetched again, however small the JWKS response's Cache-Control
	// max-age (0 and no-cache included); default VerifierConfig's, 30s.
	JWKSRefreshMin time.Duration `yaml:"jwks_refresh_min" json:"jwks_refresh_min,omitempty"`
	// JWKSRefreshMax is the longest a fetched key set is used, however large
	// its max-age, and how long it is used when the response has none:
	// the longest a key the provider removed stays trusted (tokens it signed
	// are refused from the first refresh without it, cached ones too).
	// Default VerifierConfig's, 5m.
	JWKSRefreshMax time.Duration `yaml:"jwks_refresh_max" json:"jwks_refresh_max,omitempty"`
}

// AuthorizeConfig is the relying party that step-up URLs are built for.
type AuthorizeConfig struct {
	ClientID    string   `yaml:"client_id" json:"client_id"`
	RedirectURI string   `yaml:"redirect_uri" json:"redirect_uri"`
	Scopes      []string `yaml:"scopes" json:"scopes"`
}

// CIBAConfig is the confidential client stepgate uses for CIBA.
type CIBAConfig struct {
	ClientID     string `yaml:"client_id" json:"client_id"`
	ClientSecret string `yaml:"client_secret" json:"-"`
	// LoginHint is the hint format: iss_sub (Auth0 JSON) | sub | email | username.
	LoginHint string `yaml:"login_hint" json:"login_hint"`
}

// EffectiveMFAACRValues returns the acr values that mean MFA at this issuer,
// applying the dialect default when none are configured: the OpenID PAPE
// multi-factor URI for Auth0 and generic providers, nothing for Keycloak,
// whose acr values are realm-specific level names that must be configured.
func (c IssuerConfig) EffectiveMFAACRValues() []string {
	if len(c.MFAACRValues) > 0 {
		return c.MFAACRValues
	}
	if c.Dialect == DialectKeycloak {
		return nil
	}
	return []string{PAPEMultiFactor}
}

// ACR request modes of IssuerConfig.ACRRequest.
const (
	ACRRequestValues = "acr_values"
	ACRRequestClaims = "claims"
	ACRRequestBoth   = "both"
)

// EffectiveACRRequest returns how step-up asks this issuer for an acr.
func (c IssuerConfig) EffectiveACRRequest() string {
	if c.ACRRequest != "" {
		return c.ACRRequest
	}
	if c.Dialect == DialectKeycloak {
		return ACRRequestClaims
	}
	return ACRRequestValues
}

// MFAACRValues is EffectiveMFAACRValues for an issuer that may be unknown
// (asserted claims naming no configured issuer): then the PAPE MFA URI.
func MFAACRValues(iss *IssuerConfig) []string {
	if iss == nil {
		return []string{PAPEMultiFactor}
	}
	return iss.EffectiveMFAACRValues()
}

// EffectiveACR turns the policy's requirement into the issuer's dialect: the
// policy's own acr_values win; otherwise an "mfa" requirement becomes the
// acr values that mean MFA at that issuer.
func EffectiveACR(iss *IssuerConfig, req policy.Requirements) []string {
	if len(req.ACRValues) > 0 {
		return req.ACRValues
	}
	if slices.Contains(req.AMRAny, "mfa") {
		return MFAACRValues(iss)
	}
	return nil
}
