package stepup

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Plan is what the decision service knows when a policy asks for step-up.
type Plan struct {
	Issuer       *trust.IssuerConfig // nil: no IdP configured for this subject
	Claims       map[string]any
	Requirements policy.Requirements
	// Reason is the policy's first reason, for the RFC 9470 challenge.
	Reason     string
	DecisionID string
	ClientID   string
	ReturnTo   string
	Action     string
}

// Begin creates the step-up answer and stores its transaction.
// Without an IdP (or one without an authorize client) the answer still has
// the RFC 9470 challenge, for APIs, but no authorize URL.
func (s *Service) Begin(ctx context.Context, p Plan) (*Answer, error) {
	acr := trust.EffectiveACR(p.Issuer, p.Requirements)
	ans := &Answer{WWWAuthenticate: InsufficientAuthChallenge(p.Reason, acr, p.Requirements.RequestMaxAge())}
	if p.Issuer == nil || p.Issuer.Authorize == nil {
		return ans, nil
	}
	ep, err := s.cfg.Verifier.Endpoints(ctx, p.Issuer.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover authorization endpoint: %w", err)
	}
	if ep.Authorization == "" {
		return nil, fmt.Errorf("issuer %s advertises no authorization_endpoint", p.Issuer.Issuer)
	}
	var tx Transaction
	if tx.ID, err = randomToken(16); err != nil {
		return nil, err
	}
	if tx.State, err = randomToken(32); err != nil {
		return nil, err
	}
	if tx.Nonce, err = randomToken(32); err != nil {
		return nil, err
	}
	tx.CodeVerifier = oauth2.GenerateVerifier()
	now := s.now()
	tx.ClientID, tx.Issuer, tx.AppClientID = p.ClientID, p.Issuer.Issuer, p.Issuer.Authorize.ClientID
	tx.DecisionID, tx.Action, tx.ReturnTo = p.DecisionID, p.Action, p.ReturnTo
	tx.Subject, _ = p.Claims["sub"].(string)
	tx.Requirements = p.Requirements
	tx.Requirements.ACRValues = acr
	tx.IssuedAt, tx.ExpiresAt = now, now.Add(s.cfg.TTL)

	if err := s.cfg.Transactions.CreateStepUp(ctx, tx); err != nil {
		return nil, fmt.Errorf("store step-up transaction: %w", err)
	}
	ans.AuthorizeURL = authorizeURL(ep.Authorization, p.Issuer, p.Claims, tx)
	ans.TransactionID, ans.State, ans.Nonce, ans.CodeVerifier = tx.ID, tx.State, tx.Nonce, tx.CodeVerifier
	ans.ExpiresAt = tx.ExpiresAt.UTC().Truncate(time.Second)
	return ans, nil
}

// authorizeURL builds the OpenID Connect authorization request with
// x/oauth2 (response_type, client_id, redirect_uri, scope, state, PKCE
// S256). Freshness is asked for with max_age (which also makes the IdP
// return auth_time) and proven later from auth_time; prompt=login goes along
// with a fresh login only as a hint to the IdP's UI, because a user can
// strip it.
func authorizeURL(endpoint string, iss *trust.IssuerConfig, claims map[string]any, tx Transaction) string {
	scopes := iss.Authorize.Scopes
	if !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	conf := oauth2.Config{ClientID: iss.Authorize.ClientID, RedirectURL: iss.Authorize.RedirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: endpoint}}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(tx.CodeVerifier), oauth2.SetAuthURLParam("nonce", tx.Nonce)}
	if acr := tx.Requirements.ACRValues; len(acr) > 0 {
		mode := iss.EffectiveACRRequest()
		if mode == trust.ACRRequestValues || mode == trust.ACRRequestBoth {
			opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(acr, " ")))
		}
		if mode == trust.ACRRequestClaims || mode == trust.ACRRequestBoth {
			// An essential acr claim makes the IdP fail rather than answer
			// with a weaker authentication.
			opts = append(opts, oauth2.SetAuthURLParam("claims", essentialACRClaims(acr)))
		}
	}
	if m := tx.Requirements.RequestMaxAge(); m != nil {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(*m, 10)))
	}
	if tx.Requirements.NeedsFreshLogin() {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	if hint := authorizeLoginHint(iss.Dialect, claims); hint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	return conf.AuthCodeURL(tx.State, opts...)
}

func essentialACRClaims(acr []string) string {
	var b strings.Builder
	b.WriteString(`{"id_token":{"acr":{"essential":true,"values":[`)
	for i, v := range acr {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(v))
	}
	b.WriteString(`]}}}`)
	return b.String()
}

// authorizeLoginHint pre-fills the login form with the user being stepped up.
func authorizeLoginHint(d trust.Dialect, claims map[string]any) string {
	if d == trust.DialectKeycloak {
		if u, _ := claims["preferred_username"].(string); u != "" {
			return u
		}
	}
	if e, _ := claims["email"].(string); e != "" {
		return e
	}
	return ""
}
