package stepgateclient

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"
)

// Guard turns decisions into HTTP behaviour.
type Guard struct {
	Client *Client
	// Token returns the user's token for r ("" when not signed in).
	Token func(r *http.Request) string
	// Session returns the app's session id for r, so that a step-up
	// elevates it ("" for none).
	Session func(r *http.Request) string
	// Store keeps pending step-ups.
	Store StepUpStore
	// OAuth is the app's OIDC client (the one stepgate builds authorize
	// URLs for); only its endpoint and client credentials are used.
	OAuth oauth2.Config
	// SignIn is where users without a token go; default 401.
	SignIn string
	Logger *slog.Logger
}

// IsAPI reports whether r is an API call (answered with a challenge, not
// redirected): it carries a bearer token or prefers JSON.
func IsAPI(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") ||
		strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (g *Guard) log() *slog.Logger {
	if g.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Logger
}

// Require runs next only when stepgate allows action for the request's user.
func (g *Guard) Require(action string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := g.Token(r)
		if tok == "" {
			if g.SignIn != "" && !IsAPI(r) {
				http.Redirect(w, r, g.SignIn, http.StatusSeeOther)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer`)
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		req := Request{Token: tok, Action: action}
		if g.Session != nil {
			req.SessionID = g.Session(r)
		}
		d, err := g.Client.Decide(r.Context(), req)
		if err != nil {
			g.log().ErrorContext(r.Context(), "stepgate decision failed; denying", "action", action, "err", err)
			http.Error(w, "access could not be checked", http.StatusServiceUnavailable)
			return
		}
		g.act(w, r, d, next)
	})
}

func (g *Guard) act(w http.ResponseWriter, r *http.Request, d *Decision, next http.Handler) {
	switch {
	case d.Outcome == Allow:
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), decisionKey{}, d)))
	case d.Outcome == StepUp && d.StepUp != nil && d.StepUp.AuthorizeURL != "" && !IsAPI(r):
		p := Pending{TransactionID: d.StepUp.TransactionID, State: d.StepUp.State, CodeVerifier: d.StepUp.CodeVerifier,
			ReturnTo: r.URL.RequestURI(), ExpiresAt: d.StepUp.ExpiresAt}
		if err := g.Store.SaveStepUp(w, r, p); err != nil {
			g.log().ErrorContext(r.Context(), "pending step-up could not be saved", "err", err)
			http.Error(w, "step-up unavailable", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, d.StepUp.AuthorizeURL, http.StatusSeeOther)
	case d.Outcome == StepUp && d.StepUp != nil:
		w.Header().Set("WWW-Authenticate", d.StepUp.WWWAuthenticate) // RFC 9470
		http.Error(w, "stronger or more recent authentication required", http.StatusUnauthorized)
	case d.WWWAuthenticate != "":
		w.Header().Set("WWW-Authenticate", d.WWWAuthenticate)
		http.Error(w, "invalid token", http.StatusUnauthorized)
	default:
		http.Error(w, "forbidden", http.StatusForbidden)
	}
}

type decisionKey struct{}

// DecisionFrom returns the allow decision Require put in the context.
func DecisionFrom(ctx context.Context) (*Decision, bool) {
	d, ok := ctx.Value(decisionKey{}).(*Decision)
	return d, ok
}

// Callback handles the IdP's redirect back: it takes the pending step-up by
// state, redeems the code with the PKCE verifier, has stepgate verify the
// ID token (elevating the session) and returns to the page the user came
// from. Only relative return paths are followed.
func (g *Guard) Callback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p, err := g.Store.TakeStepUp(w, r, q.Get("state"))
		if err != nil {
			http.Error(w, "the sign-in could not be matched to a step-up; try again", http.StatusBadRequest)
			return
		}
		if e := q.Get("error"); e != "" {
			http.Error(w, "the identity provider answered "+e, http.StatusForbidden)
			return
		}
		tok, err := g.OAuth.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p.CodeVerifier))
		if err != nil {
			g.log().WarnContext(r.Context(), "code exchange failed", "err", err)
			http.Error(w, "the sign-in could not be completed", http.StatusBadGateway)
			return
		}
		idToken, _ := tok.Extra("id_token").(string)
		session := ""
		if g.Session != nil {
			session = g.Session(r)
		}
		if _, err := g.Client.VerifyStepUp(r.Context(), p.TransactionID, idToken, session); err != nil {
			var se *Error
			if errors.As(err, &se) {
				http.Error(w, "the step-up was not accepted: "+se.Description, http.StatusForbidden)
				return
			}
			http.Error(w, "the step-up could not be checked", http.StatusServiceUnavailable)
			return
		}
		target := p.ReturnTo
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
			target = "/"
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// Echo adapts Require to Echo: e.GET("/billing", h, g.Echo("billing.view")).
func (g *Guard) Echo(action string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var herr error
			g.Require(action, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				herr = next(c)
			})).ServeHTTP(c.Response(), c.Request())
			return herr
		}
	}
}
