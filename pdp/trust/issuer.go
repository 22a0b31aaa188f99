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
	// Enrollment, when set, tells stepgate how to find out whether a user
	// can approve a CIBA request on a device, so that policies can read
	// input.subject.authn.ciba_capable. Without it the field is absent.
	Enrollment *EnrollmentConfig `yaml:"enrollment" json:"enrollment,omitempty"`
}

// Enrollment lookup modes of EnrollmentConfig.Mode.
const (
	// EnrollmentAuth0 reads the user's authentication methods from the
	// Auth0 Management API.
	EnrollmentAuth0 = "auth0"
	// EnrollmentHTTP asks a URL that answers {"push": true|false}.
	EnrollmentHTTP = "http"
	// EnrollmentAssume answers "capable" for every user without asking.
	EnrollmentAssume = "assume_enrolled"
)

// EnrollmentConfig says how to look up whether a user has a device that can
// approve CIBA requests.
type EnrollmentConfig struct {
	// Mode is auth0 | http | assume_enrolled; default auth0 for the auth0
	// dialect and required otherwise.
	Mode string `yaml:"mode" json:"mode"`
	// Domain is the Auth0 tenant's canonical domain (tenant.eu.auth0.com,
	// not a custom domain), or its base URL; default the issuer's host.
	Domain string `yaml:"domain" json:"domain,omitempty"`
	// Audience of the Management API token; default https://<domain>/api/v2/.
	Audience string `yaml:"audience" json:"audience,omitempty"`
	// ClientID and ClientSecret are the machine-to-machine application
	// allowed read:authentication_methods (auth0 mode); default the CIBA
	// client's.
	ClientID     string `yaml:"client_id" json:"client_id,omitempty"`
	ClientSecret string `yaml:"client_secret" json:"-"`
	// URL is the http mode's lookup URL; {sub} and {iss} are replaced by
	// the user's query-escaped sub and issuer.
	URL string `yaml:"url" json:"url,omitempty"`
	// Headers are sent with every http mode lookup, e.g. an Authorization
	// header for the lookup service.
	Headers map[string]string `yaml:"headers" json:"-"`
	// TTL is how long an answer about a user is reused; default 60s.
	TTL time.Duration `yaml:"ttl" json:"ttl,omitempty"`
	// FailureTTL is how long a failed lookup is answered "unknown" without
	// asking again; default 5s.
	FailureTTL time.Duration `yaml:"failure_ttl" json:"failure_ttl,omitempty"`
	// Timeout is the most one decision waits for a lookup; default 1s.
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
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
