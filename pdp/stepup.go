package pdp

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// stepUpPlan is what the service knows when a policy asks for step-up.
type stepUpPlan struct {
	issuer     *IssuerConfig // nil: no IdP configured for this subject
	claims     map[string]any
	req        Requirements
	reason     string
	decisionID string
	clientID   string
	returnTo   string
	action     string
}

// effectiveACR turns the policy's requirement into the issuer's dialect: the
// policy's own acr_values win; otherwise an "mfa" requirement becomes the
// acr values that mean MFA at that issuer.
func effectiveACR(iss *IssuerConfig, req Requirements) []string {
	if len(req.ACRValues) > 0 {
		return req.ACRValues
	}
	if slices.Contains(req.AMRAny, "mfa") {
		return mfaACRValues(iss)
	}
	return nil
}

// buildStepUp creates the step-up answer and stores its transaction.
// Without an IdP (or one without an authorize client) the answer still has
// the RFC 9470 challenge, for APIs, but no authorize URL.
func (s *Service) buildStepUp(ctx context.Context, p stepUpPlan) (*StepUpAnswer, error) {
	acr := effectiveACR(p.issuer, p.req)
	ans := &StepUpAnswer{WWWAuthenticate: InsufficientAuthChallenge(p.reason, acr, p.req.MaxAge)}
	if p.issuer == nil || p.issuer.Authorize == nil {
		return ans, nil
	}
	ep, err := s.cfg.Verifier.Endpoints(ctx, p.issuer.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover authorization endpoint: %w", err)
	}
	if ep.Authorization == "" {
		return nil, fmt.Errorf("issuer %s advertises no authorization_endpoint", p.issuer.Issuer)
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
	var challenge string
	if tx.CodeVerifier, challenge, err = newPKCE(); err != nil {
		return nil, err
	}
	now := s.now()
	tx.ClientID, tx.Issuer, tx.AppClientID = p.clientID, p.issuer.Issuer, p.issuer.Authorize.ClientID
	tx.DecisionID, tx.Action, tx.ReturnTo = p.decisionID, p.action, p.returnTo
	tx.Subject, _ = p.claims["sub"].(string)
	tx.Requirements = p.req
	tx.Requirements.ACRValues = acr
	tx.IssuedAt, tx.ExpiresAt = now, now.Add(s.cfg.StepUpTTL)

	u, err := authorizeURL(ep.Authorization, p.issuer, p.claims, acr, p.req.MaxAge, tx, challenge)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Transactions.CreateStepUp(ctx, tx); err != nil {
		return nil, fmt.Errorf("store step-up transaction: %w", err)
	}
	ans.AuthorizeURL = u
	ans.TransactionID, ans.State, ans.Nonce, ans.CodeVerifier = tx.ID, tx.State, tx.Nonce, tx.CodeVerifier
	ans.ExpiresAt = tx.ExpiresAt.UTC().Truncate(time.Second)
	return ans, nil
}

// authorizeURL builds the OpenID Connect authorization request. Freshness is
// asked for with max_age (which also makes the IdP return auth_time) and
// proven later from auth_time; prompt=login is never relied upon because a
// user can strip it.
func authorizeURL(endpoint string, iss *IssuerConfig, claims map[string]any, acr []string, maxAge *int64, tx Transaction, challenge string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("parse authorization endpoint: %w", err)
	}
	scopes := iss.Authorize.Scopes
	if !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	q := u.Query()
	var b strings.Builder
	b.WriteString(q.Encode())
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	add("response_type", "code")
	add("client_id", iss.Authorize.ClientID)
	add("redirect_uri", iss.Authorize.RedirectURI)
	add("scope", strings.Join(scopes, " "))
	if len(acr) > 0 {
		mode := iss.EffectiveACRRequest()
		if mode == ACRRequestValues || mode == ACRRequestBoth {
			add("acr_values", strings.Join(acr, " "))
		}
		if mode == ACRRequestClaims || mode == ACRRequestBoth {
			// An essential acr claim makes the IdP fail rather than answer
			// with a weaker authentication.
			add("claims", essentialACRClaims(acr))
		}
	}
	if maxAge != nil {
		add("max_age", strconv.FormatInt(*maxAge, 10))
	}
	add("state", tx.State)
	add("nonce", tx.Nonce)
	add("code_challenge", challenge)
	add("code_challenge_method", "S256")
	if hint := authorizeLoginHint(iss.Dialect, claims); hint != "" {
		add("login_hint", hint)
	}
	u.RawQuery = b.String()
	return u.String(), nil
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
func authorizeLoginHint(d Dialect, claims map[string]any) string {
	if d == DialectKeycloak {
		if u, _ := claims["preferred_username"].(string); u != "" {
			return u
		}
	}
	if e, _ := claims["email"].(string); e != "" {
		return e
	}
	return ""
}
