package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/stepgateclient"
)

// acrPassword is the acr the app asks for at sign-in: a password is enough
// to browse; stepgate asks for more where a page needs it.
const acrPassword = "urn:stepgate:pwd"

// loginCookie prefixes the cookie that binds a sign-in's state to this
// browser: one cookie per sign-in (named after a digest of its state), so
// that two tabs signing in at once do not overwrite each other.
const loginCookie = "billing_login"

// loginCookieName is the cookie of the sign-in with state.
func loginCookieName(state string) string {
	d := sha256.Sum256([]byte(state))
	return loginCookie + "_" + base64.RawURLEncoding.EncodeToString(d[:12])
}

// loginTTL bounds how long a user may take at the provider's login page.
const loginTTL = 10 * time.Minute

// pendingLogin is a sign-in in flight, kept server-side by state.
type pendingLogin struct {
	nonce, verifier string
	// returnTo is the same-origin page to show after signing in.
	returnTo string
	expires  time.Time
}

// loginStore keeps pending sign-ins in memory.
type loginStore struct {
	mu       sync.Mutex
	byState  map[string]pendingLogin
	now      func() time.Time
	capacity int
}

func newLoginStore(now func() time.Time) *loginStore {
	return &loginStore{byState: map[string]pendingLogin{}, now: now, capacity: 10000}
}

var errLoginsFull = errors.New("too many sign-ins in flight")

func (ls *loginStore) put(state string, p pendingLogin) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	now := ls.now()
	for k, v := range ls.byState {
		if !now.Before(v.expires) {
			delete(ls.byState, k)
		}
	}
	if len(ls.byState) >= ls.capacity {
		return errLoginsFull
	}
	ls.byState[state] = p
	return nil
}

// take returns and forgets the unexpired pending sign-in for state.
func (ls *loginStore) take(state string) (pendingLogin, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	p, ok := ls.byState[state]
	delete(ls.byState, state)
	return p, ok && ls.now().Before(p.expires)
}

func (a *App) secure() bool { return strings.HasPrefix(a.cfg.BaseURL, "https://") }

// startSignIn sends the browser to the provider: code flow with PKCE S256,
// state and nonce, asking for a password login. prompt=login makes every
// sign-in a real one, so that signing in again after signing out never
// inherits the provider's earlier (perhaps multi-factor) login. The page
// the visitor asked for (?return_to=, same-origin only) is kept with the
// pending sign-in and shown afterwards.
func (a *App) startSignIn(w http.ResponseWriter, r *http.Request) {
	state, err1 := randomString(24)
	nonce, err2 := randomString(24)
	if err := errors.Join(err1, err2); err != nil {
		a.fail(w, r, http.StatusInternalServerError, "The sign-in could not be started.", err)
		return
	}
	verifier := oauth2.GenerateVerifier()
	p := pendingLogin{nonce: nonce, verifier: verifier, returnTo: stepgateclient.ReturnToFrom(r), expires: a.now().Add(loginTTL)}
	if err := a.logins.put(state, p); err != nil {
		a.fail(w, r, http.StatusServiceUnavailable, "Too many sign-ins are in progress; try again in a minute.", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookieName(state), Value: state, Path: "/login", HttpOnly: true, Secure: a.secure(),
		SameSite: http.SameSiteLaxMode, MaxAge: int(loginTTL / time.Second)})
	u := a.signIn.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce),
		oauth2.SetAuthURLParam("acr_values", acrPassword), oauth2.SetAuthURLParam("prompt", "login"))
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// finishSignIn checks state against the browser's cookie, redeems the code
// with the PKCE verifier, verifies the ID token and its nonce, and starts a
// fresh session (a new key: no session fixation).
func (a *App) finishSignIn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(loginCookieName(state))
	http.SetCookie(w, &http.Cookie{Name: loginCookieName(state), Path: "/login", MaxAge: -1, HttpOnly: true, Secure: a.secure(),
		SameSite: http.SameSiteLaxMode})
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		a.fail(w, r, http.StatusBadRequest, "This sign-in does not belong to this browser. Please sign in again.", err)
		return
	}
	p, ok := a.logins.take(state)
	if !ok {
		a.fail(w, r, http.StatusBadRequest, "This sign-in has expired. Please sign in again.", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		a.fail(w, r, http.StatusForbidden, "The identity provider did not sign you in ("+e+").", nil)
		return
	}
	tok, err := a.signIn.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		a.fail(w, r, http.StatusBadGateway, "The sign-in could not be completed.", fmt.Errorf("code exchange: %w", err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(r.Context(), raw)
	if err == nil && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.nonce)) != 1 {
		err = errors.New("nonce mismatch")
	}
	var claims map[string]any
	if err == nil {
		err = idt.Claims(&claims)
	}
	if err != nil {
		a.fail(w, r, http.StatusForbidden, "The identity provider's answer could not be verified.", fmt.Errorf("ID token: %w", err))
		return
	}
	email, _ := claims["email"].(string)
	s, err := a.sessions.create(idt.Subject, email, tok.AccessToken, claims, tok.Expiry)
	if err != nil {
		a.fail(w, r, http.StatusServiceUnavailable, "The session could not be started.", err)
		return
	}
	if old := a.sessionOf(r); old != nil {
		a.endSession(r, old)
	}
	setSessionCookie(w, s, a.secure())
	a.log.InfoContext(r.Context(), "signed in", "sub", s.sub, "session", s.id)
	http.Redirect(w, r, stepgateclient.SafeReturnTo(p.returnTo, "/"), http.StatusSeeOther)
}

// signOut ends the app session and revokes its step-up elevation at
// stepgate, so that billing needs a new sign-in and a new step-up.
func (a *App) signOut(w http.ResponseWriter, r *http.Request) {
	if s := a.sessionOf(r); s != nil {
		a.endSession(r, s)
	}
	clearSessionCookie(w, a.secure())
	http.Redirect(w, r, "/signed-out", http.StatusSeeOther)
}

// endSession forgets s here and revokes its elevation at stepgate. A failed
// revocation is logged: the session id is never used again, so the
// elevation cannot be reached, and it expires at its max_age anyway.
func (a *App) endSession(r *http.Request, s *session) {
	a.sessions.delete(s)
	if err := a.sg.RevokeSession(r.Context(), s.id); err != nil {
		a.log.ErrorContext(r.Context(), "revoke session elevation at stepgate", "session", s.id, "err", err)
		return
	}
	a.log.InfoContext(r.Context(), "signed out; elevation revoked", "sub", s.sub, "session", s.id)
}
