package stepgateclient

import (
	"errors"
	"net/http"

	"golang.org/x/oauth2"
)

// Callback handles the IdP's redirect back: it finishes the step-up (see
// FinishStepUp) and returns the browser to the page the user wanted, or
// shows the error page (ErrorHandler, else the default page in Layout).
// Every failure is logged with its kind, code and decision id.
func (g *Guard) Callback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target, err := g.FinishStepUp(w, r)
		if err != nil {
			g.callbackFailed(w, r, err)
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// FinishStepUp does the callback's work without writing a response: it
// takes the pending step-up named by the returned state (leaving every
// other pending step-up alone), turns an IdP error into ErrCancelled or
// ErrProvider, redeems the code with the PKCE verifier and asks stepgate to
// verify the ID token, which elevates the app's session. It returns the
// same-origin page to go back to, or a *CallbackError.
func (g *Guard) FinishStepUp(w http.ResponseWriter, r *http.Request) (string, error) {
	q := r.URL.Query()
	p, err := g.Store.TakeStepUp(w, r, q.Get("state"))
	if err != nil {
		return "", storeFailure(err, p)
	}
	fail := func(kind error, code, desc string, cause error) *CallbackError {
		return &CallbackError{Kind: kind, Code: code, Description: desc, DecisionID: p.DecisionID,
			TransactionID: p.TransactionID, ReturnTo: p.ReturnTo, Err: cause}
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return "", fail(ErrCancelled, e, q.Get("error_description"), nil)
		}
		return "", fail(ErrProvider, e, q.Get("error_description"), nil)
	}
	code := q.Get("code")
	if code == "" {
		return "", fail(ErrProvider, "invalid_request", "the callback carries neither a code nor an error", nil)
	}
	tok, err := g.OAuth.Exchange(r.Context(), code, oauth2.VerifierOption(p.CodeVerifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return "", fail(ErrProvider, re.ErrorCode, re.ErrorDescription, err)
		}
		return "", fail(ErrUnavailable, "", "code exchange", err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		return "", fail(ErrProvider, "invalid_grant", "the token response has no ID token", nil)
	}
	session := ""
	if g.Session != nil {
		session = g.Session(r)
	}
	if _, err := g.Client.VerifyStepUp(r.Context(), p.TransactionID, idToken, session); err != nil {
		return "", verifyFailure(err, p)
	}
	g.log().InfoContext(r.Context(), "step-up verified", "decision_id", p.DecisionID, "transaction", p.TransactionID)
	return SafeReturnTo(p.ReturnTo, g.home()), nil
}

func (g *Guard) home() string {
	return SafeReturnTo(g.Home, "/")
}

// callbackFailed logs err and shows the error page.
func (g *Guard) callbackFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ce *CallbackError
	if !errors.As(err, &ce) {
		ce = &CallbackError{Kind: ErrUnavailable, Err: err}
	}
	level := g.log().WarnContext
	if ce.Kind == ErrUnavailable {
		level = g.log().ErrorContext
	}
	level(r.Context(), "step-up callback failed", "kind", kindName(ce.Kind), "code", ce.Code,
		"decision_id", ce.DecisionID, "transaction", ce.TransactionID, "return_to", ce.ReturnTo,
		"description", ce.Description, "err", ce.Err)
	if g.ErrorHandler != nil {
		g.ErrorHandler(w, r, ce)
		return
	}
	g.errorPage(w, r, ce)
}
