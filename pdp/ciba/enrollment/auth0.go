package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Auth0Config configures an Auth0 Management API source.
type Auth0Config struct {
	// BaseURL is the tenant, e.g. https://tenant.eu.auth0.com; the token
	// endpoint is BaseURL/oauth/token, the API BaseURL/api/v2/.
	BaseURL string
	// Audience of the Management API token; default BaseURL/api/v2/.
	Audience string
	// ClientID and ClientSecret are a machine-to-machine application
	// granted read:authentication_methods on the Management API.
	ClientID     string
	ClientSecret string
	// HTTPClient defaults to http.DefaultClient; the Checker bounds each
	// lookup with its timeout through the context.
	HTTPClient *http.Client
	// Now is the clock for the token's expiry; default time.Now.
	Now func() time.Time
}

// Auth0 is a Source reading a user's authentication methods from the Auth0
// Management API (GET /api/v2/users/{id}/authentication-methods). A user is
// capable when a confirmed push authenticator (Guardian push, or an app
// built on the Guardian SDK) is among them.
type Auth0 struct {
	cfg    Auth0Config
	tokens *tokenSource
}

// NewAuth0 validates cfg and returns the source.
func NewAuth0(cfg Auth0Config) (*Auth0, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("enrollment: auth0: domain %q is not a tenant domain or base URL", cfg.BaseURL)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("enrollment: auth0: a client id and secret for the Management API are required")
	}
	cfg.BaseURL = strings.TrimSuffix(u.String(), "/")
	if cfg.Audience == "" {
		cfg.Audience = cfg.BaseURL + "/api/v2/"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Auth0{cfg: cfg, tokens: &tokenSource{cfg: cfg}}, nil
}

// Name returns "auth0".
func (a *Auth0) Name() string { return "auth0" }

// pageSize is how many authentication methods one page asks for; Auth0
// caps per_page at 100.
const (
	pageSize = 100
	maxPages = 5
)

// Lookup reads u's authentication methods. A 401 (the token expired or was
// revoked early) gets one more try with a new token.
func (a *Auth0) Lookup(ctx context.Context, u User) (Result, error) {
	for page := 0; page < maxPages; page++ {
		methods, err := a.page(ctx, u.Subject, page)
		if err != nil {
			return Result{}, err
		}
		for _, m := range methods {
			if m.pushCapable() {
				return Result{Capable: true, Detail: fmt.Sprintf("confirmed %s authenticator %s enrolled at Auth0", m.Type, m.ID)}, nil
			}
		}
		if len(methods) < pageSize {
			return Result{Detail: fmt.Sprintf("no confirmed push authenticator among the user's %d Auth0 authentication methods", page*pageSize+len(methods))}, nil
		}
	}
	return Result{}, fmt.Errorf("auth0 authentication methods: more than %d methods, none push", maxPages*pageSize)
}

const opMethods = "auth0 authentication methods"

func (a *Auth0) page(ctx context.Context, sub string, page int) ([]authMethod, error) {
	retried := false
	for {
		tok, err := a.tokens.token(ctx)
		if err != nil {
			return nil, err
		}
		q := url.Values{"page": {fmt.Sprint(page)}, "per_page": {fmt.Sprint(pageSize)}, "include_totals": {"false"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet,
			a.cfg.BaseURL+"/api/v2/users/"+url.PathEscape(sub)+"/authentication-methods?"+q.Encode(), nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opMethods, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		resp, err := a.cfg.HTTPClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opMethods, err)
		}
		methods, retry, err := a.read(resp, tok, retried)
		resp.Body.Close()
		if retry {
			retried = true
			continue
		}
		return methods, err
	}
}

// read interprets one authentication-methods response; retry is true for a
// first 401, after the token that earned it was dropped.
func (a *Auth0) read(resp *http.Response, tok string, retried bool) (methods []authMethod, retry bool, err error) {
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		a.tokens.invalidate(tok)
		if !retried {
			return nil, true, nil
		}
		return nil, false, statusError(opMethods+" (with a new token)", resp)
	case http.StatusTooManyRequests:
		return nil, false, rateLimited(opMethods, resp, a.cfg.Now())
	case http.StatusNotFound:
		return nil, false, fmt.Errorf("%s: the Management API does not know the user (HTTP 404)", opMethods)
	default:
		return nil, false, statusError(opMethods, resp)
	}
	// include_totals=false answers a bare array; the paged object form
	// (include_totals=true) is read too, should a proxy ask for it.
	var raw json.RawMessage
	if err := decodeJSON(opMethods, resp, &raw); err != nil {
		return nil, false, err
	}
	if err := json.Unmarshal(raw, &methods); err != nil {
		var paged struct {
			Authenticators *[]authMethod `json:"authenticators"`
		}
		if err2 := json.Unmarshal(raw, &paged); err2 != nil || paged.Authenticators == nil {
			return nil, false, fmt.Errorf("%s: malformed response: %w", opMethods, err)
		}
		methods = *paged.Authenticators
	}
	return methods, false, nil
}

// authMethod is one entry of the authentication-methods list.
type authMethod struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Confirmed bool   `json:"confirmed"`
	// AuthenticationMethods lists what a guardian enrollment offers.
	AuthenticationMethods []struct {
		Type string `json:"type"`
	} `json:"authentication_methods"`
}

// pushCapable: a confirmed push method ("push" in the Management API,
// "push-notification" in the My Account API), or a confirmed Guardian
// enrollment that offers push.
func (m authMethod) pushCapable() bool {
	if !m.Confirmed {
		return false
	}
	switch m.Type {
	case "push", "push-notification":
		return true
	case "guardian":
		for _, s := range m.AuthenticationMethods {
			if s.Type == "push" {
				return true
			}
		}
	}
	return false
}
