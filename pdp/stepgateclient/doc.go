// Package stepgateclient is the Go client of stepgate's decision API for
// the services that ask it, with middleware that acts on the answers.
//
// It does not import the decision core: a service links only net/http,
// golang.org/x/oauth2 and this package.
//
// Flow of a guarded request (Guard.Require):
//
//	request ─► Client.Decide(token, action, session_id)
//	  no token ─► browser: 303 to SignIn?return_to=<the page> (SignInURL)
//	  allow   ─► the handler runs
//	  deny    ─► 403 (401 with the invalid_token challenge for a bad token)
//	  step_up ─► browser: the pending step-up (transaction, state, PKCE
//	             verifier, the page to return to, decision id) is saved
//	             under its own state through StepUpStore, then 303 to
//	             step_up.authorize_url
//	             API call: 401 with the RFC 9470 WWW-Authenticate challenge
//	  ciba    ─► 403 with the CIBA id; the app starts and polls it
//	             (Client.StartCIBA, Client.WaitCIBA)
//
// The IdP sends the browser back to the app's redirect URI, where
// Guard.Callback takes the pending step-up named by the returned state,
// redeems the code with the PKCE verifier (oauth2.Config.Exchange) and asks
// stepgate to verify the ID token (Client.VerifyStepUp), which elevates the
// app's session; then it redirects to the page the user wanted (same-origin
// paths only, see SafeReturnTo).
//
// # Several step-ups at once
//
// Real browsers start more than one step-up: two tabs open Billing, a user
// goes Back to the IdP and submits again, a redirect is lost and the page
// is reloaded. Every pending step-up is therefore kept under its own state
// and the callback touches only the one its state names: finishing tab B
// first and tab A second works, and a replayed or forged callback changes
// nothing for the others. CookieStore does this with one short-lived,
// HMAC-signed, HttpOnly, SameSite=Lax cookie per step-up (Lax, because a
// Strict cookie is not sent on the IdP's cross-site redirect back — the
// classic "state argument is missing" failure), at most Max of them per
// browser, oldest dropped first:
//
//	g := &stepgateclient.Guard{
//		Client: sg, Token: accessToken, Session: sessionID,
//		// one cookie per pending step-up, at most 8 per browser
//		Store:  stepgateclient.CookieStore{Key: key, Name: "app_stepup"},
//		OAuth:  stepUpClient,
//		SignIn: "/login",                 // gets ?return_to=/billing
//		Layout: renderInAppLayout,        // error pages in the app's look
//		Logger: logger,
//	}
//	mux.Handle("GET /billing", g.Require("billing.view", billing))
//	mux.Handle("GET /callback", g.Callback())
//
// An app-specific store must keep the same promise: key by state, take
// exactly one, never clear the others.
//
// # When the callback fails
//
// FinishStepUp returns a *CallbackError whose Kind is one of ErrCancelled
// (the user pressed Cancel: error=access_denied), ErrExpired, ErrReplayed,
// ErrUnknownState, ErrRefused (stepgate's Code says why), ErrProvider and
// ErrUnavailable; errors.Is matches them. Callback logs each with the
// decision id and shows a small page — in the app's Layout when set — that
// says what happened in plain words and links "Try again" to the page the
// user wanted. Nothing is elevated on any failure, and the next request for
// the page decides afresh, so a failed callback never locks the user out.
//
// # Deep links
//
// Require sends a signed-out browser to SignIn with the page it asked for
// as ?return_to=; the app's sign-in reads it with ReturnToFrom, keeps it
// with its own pending sign-in and redirects there afterwards.
// SafeReturnTo accepts only same-origin paths, so the parameter cannot be
// used to send users elsewhere.
package stepgateclient
