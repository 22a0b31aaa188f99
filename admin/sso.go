package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/trust"
	"github.com/stepgate/stepgate/storage"
)

// ErrSSO wraps every failed SSO callback; the message is safe to show.
var ErrSSO = errors.New("single sign-on failed")

// SSOConfig configures OIDC single sign-on for admins.
type SSOConfig struct {
	// Issuer is the OpenID provider; discovery runs against it.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the admin UI's /auth/callback as registered at the IdP.
	RedirectURL string
	// Scopes default to openid, profile, email.
	Scopes []string
	// Roles maps a claim of the ID token to admin / auditor.
	Roles RoleMapping
	// LoginTTL bounds the time between leaving for the IdP and coming back;
	// default 10m.
	LoginTTL time.Duration
	// HTTPClient talks to the IdP; default http.DefaultClient.
	HTTPClient *http.Client
	Store      SessionStore
	// Recorder records every completed or failed sign-in. Required.
	Recorder *Recorder
	Now      func() time.Time
}

// SSO runs the authorization code flow with PKCE, state and nonce. The
// pending login lives server-side, keyed by a random cookie value, so the
// callback needs nothing but that SameSite=Lax cookie.
type SSO struct {
	cfg SSOConfig

	mu       sync.Mutex
	provider *oidc.Provider
}

// NewSSO validates cfg; discovery happens on first use, so a briefly
// unreachable IdP does not stop stepgate from starting.
func NewSSO(cfg SSOConfig) (*SSO, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" || cfg.Roles.Claim == "" || cfg.Store == nil || cfg.Recorder == nil {
		return nil, errors.New("admin: sso config: Issuer, ClientID, RedirectURL, Roles.Claim, Store and Recorder are required")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	if cfg.LoginTTL <= 0 {
		cfg.LoginTTL = 10 * time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &SSO{cfg: cfg}, nil
}

// pendingLogin is what the callback checks against.
type pendingLogin struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	ReturnTo string    `json:"return_to"`
	Started  time.Time `json:"started"`
	// Requirements are the sensitive action's, checked on the way back.
	Requirements policy.Requirements `json:"requirements"`
	// MaxAge is how pending logins stored before requirements were kept
	// asked for a fresh sign-in; read only to finish those.
	MaxAge *int64 `json:"max_age,omitempty"`
}

// SSOStart asks for a stronger or fresher login (sensitive admin actions).
type SSOStart struct {
	// ReturnTo is a local path to come back to after sign-in; anything
	// SafeReturnTo refuses becomes "/".
	ReturnTo string
	// Requirements are what the sensitive action needs: sent to the IdP
	// as acr_values and max_age (0 and prompt=login for a fresh login),
	// and checked in the returned ID token by pdp.CheckProof, the same
	// check as a step-up's.
	Requirements policy.Requirements
}

// Identity is the person the IdP vouched for. Issuer and Subject identify
// them; Name (e-mail, preferred_username or name) only labels them.
type Identity struct {
	Subject, Name, Issuer string
	Role                  Role
	AMR                   []string
	ACR                   string
	AuthTime              time.Time
	// ReturnTo is the local path the login started from.
	ReturnTo string
}

// Actor is the identity as the admin audit trail names it.
func (id *Identity) Actor() string { return SSOActor(id.Issuer, id.Subject) }

func (s *SSO) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, s.cfg.HTTPClient)
}

func (s *SSO) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	p, err := oidc.NewProvider(s.ctx(ctx), s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: discover %s: %w", s.cfg.Issuer, err)
	}
	s.provider = p
	return p, nil
}

func (s *SSO) oauth2(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.cfg.RedirectURL, Scopes: s.cfg.Scopes}
}

// Begin stores a pending login and returns the cookie value that names it
// and the IdP URL to send the browser to.
func (s *SSO) Begin(ctx context.Context, opt SSOStart) (cookie, authURL string, err error) {
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return "", "", err
	}
	pl := pendingLogin{Verifier: oauth2.GenerateVerifier(), ReturnTo: SafeReturnTo(opt.ReturnTo), Requirements: opt.Requirements, Started: s.cfg.Now()}
	if pl.State, err = RandomToken(24); err != nil {
		return "", "", err
	}
	if pl.Nonce, err = RandomToken(24); err != nil {
		return "", "", err
	}
	if cookie, err = RandomToken(32); err != nil {
		return "", "", err
	}
	data, err := json.Marshal(pl)
	if err != nil {
		return "", "", fmt.Errorf("sso: encode pending login: %w", err)
	}
	if err := s.cfg.Store.PutAdminSession(ctx, hashKey("sso:"+cookie), data, pl.Started.Add(s.cfg.LoginTTL)); err != nil {
		return "", "", fmt.Errorf("sso: store pending login: %w", err)
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(pl.Nonce), oauth2.S256ChallengeOption(pl.Verifier)}
	req := opt.Requirements
	if m := req.RequestMaxAge(); m != nil {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(*m, 10)))
	}
	if req.NeedsFreshLogin() {
		// Only a hint for the IdP's UI: auth_time proves the new login.
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	if len(req.ACRValues) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(req.ACRValues, " ")))
	}
	return cookie, s.oauth2(p).AuthCodeURL(pl.State, opts...), nil
}

// Complete checks the callback against the pending login named by cookie
// (which it consumes), redeems the code with the PKCE verifier, verifies
// the ID token and its nonce, and maps the role claim. Every sign-in that
// succeeds or fails with ErrSSO is recorded, under the verified identity
// once the ID token was verified; when the record of a successful one
// cannot be written, the sign-in fails.
func (s *SSO) Complete(ctx context.Context, cookie, state, code string) (*Identity, error) {
	id, att, err := s.complete(ctx, cookie, state, code)
	detail := map[string]any{"method": "sso", "issuer": s.cfg.Issuer}
	switch {
	case err == nil:
		detail["role"], detail["amr"], detail["acr"] = string(id.Role), id.AMR, id.ACR
		if rerr := s.cfg.Recorder.Event(WithActorLabel(ctx, id.Name), id.Actor(), att.what, OutcomeOK, "", detail); rerr != nil {
			return nil, fmt.Errorf("sso: sign-in could not be recorded: %w", rerr)
		}
		return id, nil
	case errors.Is(err, ErrSSO):
		if rerr := s.cfg.Recorder.Event(WithActorLabel(ctx, att.label), att.actor, att.what, OutcomeFailed, err.Error(), detail); rerr != nil {
			return nil, fmt.Errorf("sso: failed sign-in could not be recorded: %w", rerr)
		}
	}
	return nil, err
}

// Refused records a sign-in the identity provider refused (its error
// response to the callback), with its error code and description.
func (s *SSO) Refused(ctx context.Context, code, description string) error {
	reason := strings.TrimSpace("the identity provider refused the sign-in: " + code + " " + description)
	if err := s.cfg.Recorder.Event(ctx, "anonymous", ActionSignIn, OutcomeFailed, truncate(reason, 500),
		map[string]any{"method": "sso", "issuer": s.cfg.Issuer}); err != nil {
		return fmt.Errorf("sso: failed sign-in could not be recorded: %w", err)
	}
	return nil
}

// attempt is what is known of a sign-in for its record: whether it
// re-authenticates for a sensitive action, and who, once the ID token
// verified.
type attempt struct {
	what, actor, label string
}

func (s *SSO) complete(ctx context.Context, cookie, state, code string) (*Identity, attempt, error) {
	att := attempt{what: ActionSignIn, actor: "anonymous"}
	if cookie == "" {
		return nil, att, fmt.Errorf("%w: the sign-in cookie is missing; start again", ErrSSO)
	}
	key := hashKey("sso:" + cookie)
	data, err := s.cfg.Store.GetAdminSession(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, att, fmt.Errorf("%w: this sign-in is unknown or was already used; start again", ErrSSO)
	}
	if err != nil {
		return nil, att, fmt.Errorf("sso: load pending login: %w", err)
	}
	if err := s.cfg.Store.DeleteAdminSession(ctx, key); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, att, fmt.Errorf("sso: consume pending login: %w", err)
	}
	var pl pendingLogin
	if err := json.Unmarshal(data, &pl); err != nil {
		return nil, att, fmt.Errorf("sso: decode pending login: %w", err)
	}
	if !pl.Requirements.Empty() || pl.MaxAge != nil {
		att.what = ActionReauth
	}
	now := s.cfg.Now()
	switch {
	case now.Sub(pl.Started) > s.cfg.LoginTTL:
		return nil, att, fmt.Errorf("%w: the sign-in took too long; start again", ErrSSO)
	case state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(pl.State)) != 1:
		return nil, att, fmt.Errorf("%w: the state parameter does not match", ErrSSO)
	case code == "":
		return nil, att, fmt.Errorf("%w: the identity provider returned no code", ErrSSO)
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return nil, att, err
	}
	tok, err := s.oauth2(p).Exchange(s.ctx(ctx), code, oauth2.VerifierOption(pl.Verifier))
	if err != nil {
		return nil, att, fmt.Errorf("%w: redeeming the code: %v", ErrSSO, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, att, fmt.Errorf("%w: the token response has no id_token", ErrSSO)
	}
	idt, err := p.VerifierContext(s.ctx(ctx), &oidc.Config{ClientID: s.cfg.ClientID, Now: s.cfg.Now}).Verify(s.ctx(ctx), raw)
	if err != nil {
		return nil, att, fmt.Errorf("%w: ID token: %v", ErrSSO, err)
	}
	att.actor = SSOActor(idt.Issuer, idt.Subject)
	id, err := s.identity(idt, pl)
	if err != nil {
		return nil, att, err
	}
	return id, att, nil
}

// reauthSkew is how much earlier than the redirect a fresh sign-in's
// auth_time may be (clock differences with the IdP).
const reauthSkew = 5 * time.Second

func (s *SSO) identity(idt *oidc.IDToken, pl pendingLogin) (*Identity, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: ID token claims: %v", ErrSSO, err)
	}
	role, ok := s.cfg.Roles.RoleFor(claims)
	if !ok {
		return nil, fmt.Errorf("%w: your account has no admin or auditor role (claim %q)", ErrSSO, s.cfg.Roles.Claim)
	}
	id := &Identity{Subject: idt.Subject, Issuer: idt.Issuer, Role: role, ReturnTo: SafeReturnTo(pl.ReturnTo), AuthTime: idt.IssuedAt}
	for _, k := range []string{"email", "preferred_username", "name"} {
		if v, _ := claims[k].(string); v != "" {
			id.Name = v
			break
		}
	}
	if id.Name == "" {
		id.Name = idt.Subject
	}
	req := pl.Requirements
	if req.Empty() && pl.MaxAge != nil {
		req = policy.Requirements{MaxAge: pl.MaxAge, FreshLogin: true}
	}
	facts, verr := trust.CheckProof(claims, trust.Proof{Nonce: pl.Nonce, Requirements: req, RequestedAt: pl.Started,
		Skew: reauthSkew}, s.cfg.Now())
	if verr != nil {
		return nil, fmt.Errorf("%w: %s", ErrSSO, verr.Description)
	}
	if !facts.AuthTime.IsZero() {
		id.AuthTime = facts.AuthTime
	}
	id.ACR, id.AMR = facts.ACR, facts.AMR
	return id, nil
}
