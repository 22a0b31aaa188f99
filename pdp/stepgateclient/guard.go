package stepgateclient

import (
	"context"
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
	// SignIn is where users without a token go, with the page they asked
	// for as ?return_to= (see SignInURL); default 401.
	SignIn string
	// Home is where the error page's "Try again" leads when the callback
	// cannot tell which page the user wanted; default "/".
	Home string
	// Layout places the default callback error page in the app's own
	// layout: it writes the Content-Type, p.Status and a page with p.Title
	// and p.Body (safe HTML). nil writes a minimal standalone page.
	Layout func(w http.ResponseWriter, r *http.Request, p ErrorPage)
	// ErrorHandler, when set, replaces the default error page for failed
	// callbacks (the failure is logged either way).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err *CallbackError)
	// Logger receives callback failures and step-up errors; default none.
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
				http.Redirect(w, r, SignInURL(g.SignIn, r), http.StatusSeeOther)
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
			ReturnTo: SafeReturnTo(r.URL.RequestURI(), g.home()), ExpiresAt: d.StepUp.ExpiresAt, DecisionID: d.ID}
		if err := g.Store.SaveStepUp(w, r, p); err != nil {
			g.log().ErrorContext(r.Context(), "pending step-up could not be saved", "decision_id", d.ID, "err", err)
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

// Echo adapts Require to Echo: e.GET("/billing", h, g.Echo("billing.view")).
// It keeps pending step-ups in the same Store as Require, so EchoCallback
// finishes them with the same multi-tab safety.
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

// EchoCallback adapts Callback to Echo: e.GET("/callback", g.EchoCallback()).
func (g *Guard) EchoCallback() echo.HandlerFunc {
	return echo.WrapHandler(g.Callback())
}
