package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

// Config configures the app.
type Config struct {
	// BaseURL is where browsers reach the app, e.g. http://127.0.0.1:8080;
	// the redirect URIs are derived from it.
	BaseURL string
	// Issuer is the OpenID provider (discovery runs against it at start).
	Issuer string
	// ClientID is the app's public OAuth client at the provider.
	ClientID string
	// StepgateURL and StepgateKey reach stepgate's decision API.
	StepgateURL, StepgateKey string
	// PhoneSimulator serves /phone, which answers CIBA requests through the
	// test provider's /__test routes. Never enable it with a real IdP.
	PhoneSimulator bool
	// PhoneUsers are the users (sub) who have the simulated phone; nil:
	// every user. stepgate's enrollment lookup asks GET /phone/enrollment.
	PhoneUsers []string
	// SessionTTL bounds a session (also by the access token's expiry);
	// default 8h.
	SessionTTL time.Duration
	// BillingWindow is how long one step-up unlocks billing in stepgate's
	// policy (billing.view's max_age), shown on the home page; 0 shows no
	// figure. The policy decides; this only describes it.
	BillingWindow time.Duration
	Logger        *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// HTTP is used for the provider and stepgate; default 10 s timeout.
	HTTP *http.Client
}

// App is the billing site.
type App struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	issuer   *url.URL
	verifier *oidc.IDTokenVerifier
	signIn   oauth2.Config
	sg       *stepgateclient.Client
	guard    *stepgateclient.Guard
	sessions *sessionStore
	logins   *loginStore
	pages    *pages
}

// New discovers the provider and wires the app.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.BaseURL == "" || cfg.Issuer == "" || cfg.ClientID == "" || cfg.StepgateURL == "" || cfg.StepgateKey == "" {
		return nil, errors.New("billing: base URL, issuer, client id, stepgate URL and key are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("billing: issuer: %w", err)
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTP), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("billing: discover %s: %w", cfg.Issuer, err)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client: no secret
	cookieKey, err := randomBytes(32)
	if err != nil {
		return nil, err
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	a := &App{
		cfg: cfg, log: cfg.Logger, now: cfg.Now, issuer: issuer,
		verifier: provider.VerifierContext(oidc.ClientContext(ctx, cfg.HTTP), &oidc.Config{ClientID: cfg.ClientID, Now: cfg.Now}),
		signIn: oauth2.Config{ClientID: cfg.ClientID, Endpoint: endpoint, RedirectURL: cfg.BaseURL + "/login/callback",
			Scopes: []string{oidc.ScopeOpenID}},
		sg:       &stepgateclient.Client{BaseURL: cfg.StepgateURL, Key: cfg.StepgateKey, HTTP: cfg.HTTP},
		sessions: newSessionStore(cfg.Now, cfg.SessionTTL),
		logins:   newLoginStore(cfg.Now),
		pages:    pg,
	}
	a.guard = &stepgateclient.Guard{
		Client:  a.sg,
		Token:   func(r *http.Request) string { return a.sessionOf(r).accessToken() },
		Session: func(r *http.Request) string { return a.sessionOf(r).publicID() },
		// One cookie per pending step-up, keyed by state, at most 8.
		Store: stepgateclient.CookieStore{Key: cookieKey, Name: "billing_stepup",
			Secure: strings.HasPrefix(cfg.BaseURL, "https://"), Now: cfg.Now},
		OAuth: oauth2.Config{ClientID: cfg.ClientID, Endpoint: endpoint, RedirectURL: cfg.BaseURL + "/callback",
			Scopes: []string{oidc.ScopeOpenID}},
		SignIn: "/login",
		Home:   "/",
		Layout: a.stepUpError,
		Logger: cfg.Logger,
	}
	return a, nil
}

// Handler returns the app's routes behind cross-origin protection for
// unsafe methods and conservative response headers.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.Handle("GET /static/", staticFiles())
	mux.HandleFunc("GET /login", a.startSignIn)
	mux.HandleFunc("GET /login/callback", a.finishSignIn)
	mux.HandleFunc("POST /logout", a.signOut)
	mux.HandleFunc("GET /signed-out", a.signedOut)
	mux.Handle("GET /profile", a.requireSignIn(http.HandlerFunc(a.profile)))
	mux.Handle("GET /billing", a.guard.Require("billing.view", http.HandlerFunc(a.billing)))
	mux.Handle("GET /callback", a.guard.Callback())
	mux.Handle("GET /pay", a.requireSignIn(http.HandlerFunc(a.payForm)))
	mux.Handle("POST /pay", a.requireSignIn(http.HandlerFunc(a.pay)))
	mux.Handle("GET /payments/{id}", a.requireSignIn(http.HandlerFunc(a.payment)))
	if a.cfg.PhoneSimulator {
		mux.HandleFunc("GET /phone", a.phone)
		mux.HandleFunc("POST /phone/{id}/{answer}", a.phoneAnswer)
		mux.HandleFunc("GET /phone/enrollment", a.phoneEnrollment)
	}
	return securityHeaders(http.NewCrossOriginProtection().Handler(mux))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// requireSignIn sends visitors without a session to the sign-in and hands
// the session to next through the request context (signedIn).
func (a *App) requireSignIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := a.sessionOf(r)
		if s == nil {
			http.Redirect(w, r, stepgateclient.SignInURL("/login", r), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

type sessionKey struct{}

// signedIn is the session requireSignIn found.
func signedIn(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}
