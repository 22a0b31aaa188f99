package forwardauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Callback serves CallbackPath: the IdP's redirect back. It checks the
// state against the pending cookie, exchanges the code with the PKCE
// verifier, verifies the ID token against the transaction (as
// /v1/stepup/verify does, audited), sets the session cookie and sends the
// browser back to where it was going, on this origin only.
func (h *Handler) Callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	scheme, host, err := originOf(r)
	if err != nil {
		page(w, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	origin := scheme + "://" + host
	var p pending
	ck, err := r.Cookie(h.pendingName())
	if err == nil {
		err = h.seal.open(h.pendingName(), ck.Value, &p)
	}
	switch {
	case err != nil:
		page(w, http.StatusBadRequest, "Sign-in expired", "This sign-in was not started in this browser, or it expired. Go back and open the page again.")
		return
	case p.Host != host:
		page(w, http.StatusBadRequest, "Sign-in refused", "This sign-in was started for another site.")
		return
	case !sameOrigin(p.Return, origin):
		h.log.WarnContext(ctx, "forward auth: off-site return URL refused", "return", short(p.Return), "origin", origin)
		page(w, http.StatusBadRequest, "Sign-in refused", "The page to return to is not on this site.")
		return
	case h.cfg.Now().Unix() >= p.Expires:
		page(w, http.StatusBadRequest, "Sign-in expired", "This sign-in took too long. Go back and open the page again.")
		return
	}
	// From here on the pending cookie is spent, whatever happens.
	http.SetCookie(w, cookie(h.pendingName(), "", scheme, time.Time{}))
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(p.State)) != 1 {
		page(w, http.StatusBadRequest, "Sign-in refused", "The identity provider's answer does not belong to this sign-in.")
		return
	}
	if e := q.Get("error"); e != "" {
		page(w, http.StatusForbidden, "Sign-in failed", "The identity provider answered "+e+": "+q.Get("error_description"))
		return
	}
	idToken, err := h.exchange(ctx, p, origin+h.cfg.CallbackPath, q.Get("code"))
	if err != nil {
		h.log.WarnContext(ctx, "forward auth: code exchange failed", "issuer", p.Issuer, "err", err)
		page(w, http.StatusBadGateway, "Sign-in failed", "The identity provider did not redeem the sign-in.")
		return
	}
	res, err := h.cfg.Decider.VerifyStepUp(ctx, clientauth.Client{ID: p.Client}, p.Transaction, idToken)
	if err != nil {
		var ve *trust.VerifyError
		if errors.As(err, &ve) {
			page(w, http.StatusForbidden, "Sign-in refused", ve.Code+": "+ve.Description)
			return
		}
		h.log.ErrorContext(ctx, "forward auth: verification failed", "err", err)
		page(w, http.StatusServiceUnavailable, "Sign-in failed", "The sign-in could not be verified; try again.")
		return
	}
	s := Session{ID: p.Session, Issuer: res.Transaction.Issuer, Host: host, Client: p.Client,
		ACR: res.Proof.ACR, AMR: res.Proof.AMR, Expires: h.cfg.Now().Add(h.cfg.SessionTTL).Unix()}
	s.Subject, _ = res.Claims["sub"].(string)
	s.SID, _ = res.Claims["sid"].(string)
	if !res.Proof.AuthTime.IsZero() {
		s.AuthTime = res.Proof.AuthTime.Unix()
	}
	if s.ID == "" {
		if s.ID, err = newSessionID(); err != nil {
			page(w, http.StatusInternalServerError, "Sign-in failed", "Try again.")
			return
		}
	}
	val, err := h.seal.seal(h.cfg.CookieName, s)
	if err != nil {
		page(w, http.StatusInternalServerError, "Sign-in failed", "Try again.")
		return
	}
	http.SetCookie(w, cookie(h.cfg.CookieName, val, scheme, time.Unix(s.Expires, 0)))
	http.SetCookie(w, cookie(h.signedOutName(), "", scheme, time.Time{}))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, p.Return, http.StatusSeeOther)
}

// exchange redeems the code at the issuer's token endpoint with the PKCE
// verifier and returns the ID token.
func (h *Handler) exchange(ctx context.Context, p pending, redirectURI, code string) (string, error) {
	if code == "" {
		return "", errors.New("no code in the callback")
	}
	ep, err := h.cfg.Verifier.Endpoints(ctx, p.Issuer)
	if err != nil {
		return "", err
	}
	style := oauth2.AuthStyleInParams
	if h.cfg.ClientSecret != "" {
		style = oauth2.AuthStyleInHeader
	}
	conf := oauth2.Config{ClientID: p.AppClient, ClientSecret: h.cfg.ClientSecret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: ep.Authorization, TokenURL: ep.Token, AuthStyle: style}}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, h.cfg.HTTPClient), code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return "", err
	}
	id, _ := tok.Extra("id_token").(string)
	if id == "" {
		return "", errors.New("the token response has no id_token")
	}
	return id, nil
}

// SignOut serves SignOutPath: it revokes the cookie's session (so a copy
// of the cookie no longer counts), clears the cookie, marks the browser so
// that its next sign-in is a fresh login, and goes to rd, a path on this
// origin (default "/"). An rd elsewhere is refused.
func (h *Handler) SignOut(w http.ResponseWriter, r *http.Request) {
	scheme, host, err := originOf(r)
	if err != nil {
		page(w, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	rd := r.URL.Query().Get("rd")
	if rd == "" {
		rd = "/"
	}
	if !localPath(rd) {
		page(w, http.StatusBadRequest, "Sign-out refused", "The page to go to after signing out is not on this site.")
		return
	}
	var s Session
	if ck, err := r.Cookie(h.cfg.CookieName); err == nil && h.seal.open(h.cfg.CookieName, ck.Value, &s) == nil && s.Host == host && h.cfg.Sessions != nil {
		if _, err := h.cfg.Sessions.Revoke(r.Context(), clientauth.Client{ID: s.Client}, s.ID); err != nil {
			h.log.ErrorContext(r.Context(), "forward auth: session revocation failed", "session_id", s.ID, "err", err)
			page(w, http.StatusServiceUnavailable, "Sign-out failed", "The session could not be ended; try again.")
			return
		}
	}
	http.SetCookie(w, cookie(h.cfg.CookieName, "", scheme, time.Time{}))
	http.SetCookie(w, cookie(h.signedOutName(), "1", scheme, time.Time{}))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, scheme+"://"+host+rd, http.StatusSeeOther)
}

func newSessionID() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return "fa_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// page renders a short HTML page for the browser.
func page(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s</h1><p id=\"message\">%s</p>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(msg))
}
