package trust

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/stepgate/stepgate/pdp/trust/jwks"
)

// Defaults of VerifierConfig.
const (
	DefaultLeeway        = 30 * time.Second
	DefaultTokenCache    = 10000
	DefaultMaxTokenBytes = 16 << 10
	defaultIdPTimeout    = 10 * time.Second
	// DefaultJWKSRefreshMin and DefaultJWKSRefreshMax bound a JWKS's
	// lifetime (see VerifierConfig.JWKSRefreshMin).
	DefaultJWKSRefreshMin = jwks.DefaultRefreshMin
	DefaultJWKSRefreshMax = jwks.DefaultRefreshMax
)

// VerifierConfig configures token verification. Zero values take the
// defaults named in the field comments.
type VerifierConfig struct {
	// Issuers are the identity providers whose tokens are accepted. None is
	// valid: every token is then rejected as unknown_issuer.
	Issuers []IssuerConfig
	// Leeway is the clock skew allowed for exp, nbf and iat; default 30s.
	Leeway time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// HTTPClient fetches discovery documents and JWKS; default a client with
	// a 10s timeout. Its Transport is wrapped, never modified.
	HTTPClient *http.Client
	// CacheSize is the number of verified tokens remembered; default 10000;
	// negative disables the cache.
	CacheSize int
	// MaxTokenBytes rejects bigger tokens before parsing; default 16 KiB.
	MaxTokenBytes int
	// Logger receives discovery events; default discards.
	Logger *slog.Logger
	// JWKSRefreshMin and JWKSRefreshMax bound how long a fetched JWKS is
	// used before it is fetched again, whatever its Cache-Control max-age
	// says, for issuers that do not set their own (IssuerConfig has the
	// same fields): defaults 30s and 5m. Without a max-age the maximum
	// applies. A key the provider removed is trusted at most
	// JWKSRefreshMax after it disappeared; a failed refresh keeps the last
	// good keys and is retried with backoff.
	JWKSRefreshMin, JWKSRefreshMax time.Duration
}

// Verifier verifies users' tokens against the configured issuers. It is safe
// for concurrent use; discovery happens lazily on first use of each issuer.
type Verifier struct {
	issuers       []IssuerConfig
	byIssuer      map[string]*issuerRemote
	leeway        time.Duration
	now           func() time.Time
	maxTokenBytes int
	cache         *tokenCache // nil when disabled
}

// NewVerifier validates cfg and returns a Verifier. It does not contact the
// network: an IdP that is down at start-up only fails the tokens it issued.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Leeway < 0 {
		return nil, errors.New("pdp: verifier config: negative leeway")
	}
	if cfg.MaxTokenBytes < 0 {
		return nil, errors.New("pdp: verifier config: negative max token bytes")
	}
	v := &Verifier{
		byIssuer:      make(map[string]*issuerRemote, len(cfg.Issuers)),
		leeway:        cmp.Or(cfg.Leeway, DefaultLeeway),
		now:           cfg.Now,
		maxTokenBytes: cmp.Or(cfg.MaxTokenBytes, DefaultMaxTokenBytes),
	}
	if v.now == nil {
		v.now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultIdPTimeout}
	}
	if cfg.JWKSRefreshMin < 0 || cfg.JWKSRefreshMax < 0 {
		return nil, errors.New("pdp: verifier config: negative JWKS refresh bound")
	}
	for i, ic := range cfg.Issuers {
		ic, err := normalizeIssuerConfig(ic, cfg.JWKSRefreshMin, cfg.JWKSRefreshMax)
		if err != nil {
			return nil, fmt.Errorf("pdp: verifier config: issuers[%d]: %w", i, err)
		}
		if _, dup := v.byIssuer[ic.Issuer]; dup {
			return nil, fmt.Errorf("pdp: verifier config: issuers[%d]: duplicate issuer %q", i, ic.Issuer)
		}
		v.issuers = append(v.issuers, ic)
		v.byIssuer[ic.Issuer] = newIssuerRemote(ic, client, v.now, log)
	}
	if cfg.CacheSize >= 0 {
		c, err := newTokenCache(cmp.Or(cfg.CacheSize, DefaultTokenCache))
		if err != nil {
			return nil, fmt.Errorf("pdp: verifier config: %w", err)
		}
		v.cache = c
	}
	return v, nil
}

// Issuer returns the configuration of a configured issuer by its exact
// issuer string, with defaults applied (an empty Dialect becomes generic).
func (v *Verifier) Issuer(iss string) (IssuerConfig, bool) {
	r, ok := v.byIssuer[iss]
	if !ok {
		return IssuerConfig{}, false
	}
	return r.cfg, true
}

// Issuers returns all configured issuers in configuration order.
func (v *Verifier) Issuers() []IssuerConfig {
	return slices.Clone(v.issuers)
}

// normalizeIssuerConfig validates one issuer, applies defaults (the JWKS
// refresh bounds: the issuer's, else the verifier's, else the jwks
// package's) and copies the slices so that later changes by the caller
// cannot reach the verifier.
func normalizeIssuerConfig(ic IssuerConfig, refreshMin, refreshMax time.Duration) (IssuerConfig, error) {
	if err := checkIdPURL(ic.Issuer); err != nil {
		return ic, fmt.Errorf("issuer: %w", err)
	}
	if len(ic.Audiences) == 0 {
		return ic, fmt.Errorf("issuer %q: at least one audience is required", ic.Issuer)
	}
	if slices.Contains(ic.Audiences, "") {
		return ic, fmt.Errorf("issuer %q: empty audience", ic.Issuer)
	}
	switch ic.Dialect {
	case "":
		ic.Dialect = DialectGeneric
	case DialectGeneric, DialectAuth0, DialectKeycloak:
	default:
		return ic, fmt.Errorf("issuer %q: unknown dialect %q (want generic, auth0 or keycloak)", ic.Issuer, ic.Dialect)
	}
	switch ic.ACRRequest {
	case "", ACRRequestValues, ACRRequestClaims, ACRRequestBoth:
	default:
		return ic, fmt.Errorf("issuer %q: unknown acr_request %q (want acr_values, claims or both)", ic.Issuer, ic.ACRRequest)
	}
	if ic.JWKSRefreshMin < 0 || ic.JWKSRefreshMax < 0 {
		return ic, fmt.Errorf("issuer %q: negative JWKS refresh bound", ic.Issuer)
	}
	ic.JWKSRefreshMax = cmp.Or(ic.JWKSRefreshMax, refreshMax, jwks.DefaultRefreshMax)
	// A maximum below the default minimum lowers the minimum with it; an
	// explicit minimum above the maximum is a mistake.
	ic.JWKSRefreshMin = cmp.Or(ic.JWKSRefreshMin, refreshMin, min(jwks.DefaultRefreshMin, ic.JWKSRefreshMax))
	if ic.JWKSRefreshMin > ic.JWKSRefreshMax {
		return ic, fmt.Errorf("issuer %q: jwks_refresh_min %s exceeds jwks_refresh_max %s", ic.Issuer, ic.JWKSRefreshMin, ic.JWKSRefreshMax)
	}
	ic.Audiences = slices.Clone(ic.Audiences)
	ic.MFAACRValues = slices.Clone(ic.MFAACRValues)
	if ic.Authorize != nil {
		a := *ic.Authorize
		a.Scopes = slices.Clone(a.Scopes)
		ic.Authorize = &a
	}
	if ic.CIBA != nil {
		c := *ic.CIBA
		ic.CIBA = &c
	}
	return ic, nil
}

// checkIdPURL accepts absolute https URLs, and plain http only on loopback
// (127.0.0.1, ::1, localhost) for development and tests. OIDC issuers carry
// no query, fragment or user info.
func checkIdPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must not carry a query, fragment or user info", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: plain http is allowed only for 127.0.0.1, ::1 and localhost", raw)
	default:
		return fmt.Errorf("%q: scheme must be https", raw)
	}
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
