package forwardauth

import (
	"context"
	"net/http"
	"strings"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/session"
)

// Check answers the proxy's subrequest for client c (the proxy, already
// authenticated). It returns an error only for a subrequest that could not
// be decided (clientauth.ErrInvalidRequest and the like); every decision,
// whatever its outcome, is written to w.
func (h *Handler) Check(w http.ResponseWriter, r *http.Request, c clientauth.Client) error {
	o, err := OriginalOf(r)
	if err != nil {
		return clientauth.Invalidf("%s", err)
	}
	res, err := h.Decide(r.Context(), o, r.Header, c)
	if err != nil {
		return err
	}
	res.WriteTo(w)
	return nil
}

// Decide answers for the original request o with its headers
// (Authorization, Cookie, Accept, X-Stepgate-Action) on behalf of client
// c, independent of how the proxy asked: Check renders it for HTTP
// subrequests, and an adapter for another protocol (Envoy ext_authz) can
// render the same answer. It returns an error only for a request that
// could not be decided.
func (h *Handler) Decide(ctx context.Context, o Original, header http.Header, c clientauth.Client) (*Response, error) {
	res := &Response{Header: http.Header{}}
	w := responseWriter{res}
	action, resourceType, ok := h.action(header, o)
	if !ok {
		writeAnswer(w, http.StatusForbidden, answerBody{Decision: policy.Deny,
			Reasons: []string{"no forward_auth route matches " + o.Method + " " + o.Hostname() + o.Path + ", and the default denies"}})
		return res, nil
	}
	req := &pdp.Request{Action: action, Resource: policy.Resource{Type: resourceType, ID: o.Path},
		Context: map[string]any{"method": o.Method, "host": o.Hostname(), "path": o.Path, "channel": "web"}}
	var sess *Session
	client := c
	if tok, ok := bearer(header.Get("Authorization")); ok {
		req.Token = tok
	} else if s, ok := h.session(ctx, header, o, c); ok {
		// stepgate's own cookie: facts it verified itself, asserted on
		// the proxy client's behalf, whatever that client may assert.
		sess, req.Claims, req.SessionID = &s, s.Claims(), s.ID
		client.AssertClaims = true
	} else {
		if err := h.signIn(ctx, w, header, o, c, action); err != nil {
			return nil, err
		}
		return res, nil
	}
	d, err := h.cfg.Decider.Decide(ctx, client, req)
	if err != nil {
		return nil, err
	}
	if err := h.answer(w, o, c, d, sess, req.Token); err != nil {
		return nil, err
	}
	return res, nil
}

// action is the proxy's X-Stepgate-Action (when allowed), else the route
// table's answer.
func (h *Handler) action(header http.Header, o Original) (action, resourceType string, ok bool) {
	if a := header.Get("X-Stepgate-Action"); h.cfg.ActionHeader && a != "" && policy.ValidAction(a) {
		return a, resourceTypeOr(header.Get("X-Stepgate-Resource-Type")), true
	}
	return h.table.Match(o.Hostname(), o.Method, o.Path)
}

// session opens the session cookie: sealed by one of the keys, for this
// host and this proxy client, not expired. Anything else is no session.
func (h *Handler) session(ctx context.Context, header http.Header, o Original, c clientauth.Client) (Session, bool) {
	ck, err := requestCookie(header, h.cfg.CookieName)
	if err != nil {
		return Session{}, false
	}
	var s Session
	if err := h.seal.open(h.cfg.CookieName, ck.Value, &s); err != nil {
		h.log.InfoContext(ctx, "forward auth: session cookie refused", "host", o.Host, "err", err)
		return Session{}, false
	}
	switch {
	case s.Host != o.Host:
		h.log.InfoContext(ctx, "forward auth: session cookie of another host refused", "host", o.Host, "cookie_host", s.Host)
		return Session{}, false
	case s.Client != c.ID:
		h.log.InfoContext(ctx, "forward auth: session cookie of another client refused", "client_id", c.ID, "cookie_client", s.Client)
		return Session{}, false
	case h.cfg.Now().Unix() >= s.Expires, s.Subject == "", !session.ValidSessionID(s.ID):
		return Session{}, false
	}
	return s, true
}

// signIn answers a request without credentials: a browser is sent to sign
// in (a step-up with no requirements; a fresh login after a sign-out), an
// API call gets a plain Bearer challenge.
func (h *Handler) signIn(ctx context.Context, w http.ResponseWriter, header http.Header, o Original, c clientauth.Client, action string) error {
	if !o.Browser() {
		w.Header().Set("WWW-Authenticate", `Bearer realm="stepgate"`)
		writeAnswer(w, http.StatusUnauthorized, answerBody{Decision: policy.Deny, Reasons: []string{"no credentials: send a bearer token or sign in"}})
		return nil
	}
	var req policy.Requirements
	if _, err := requestCookie(header, h.signedOutName()); err == nil {
		req.FreshLogin = true
	}
	ans, err := h.stepUp.Begin(ctx, stepupPlan(&h.issuer, req, c.ID, o.URL(), action))
	if err != nil {
		h.log.ErrorContext(ctx, "forward auth: sign-in could not be started", "err", err)
		writeAnswer(w, http.StatusServiceUnavailable, answerBody{Decision: policy.Deny, Reasons: []string{"sign-in unavailable: the identity provider could not be reached"}})
		return nil
	}
	return h.redirectToIdP(w, o, c, h.issuer.Issuer, h.issuer.Authorize.ClientID, ans.AuthorizeURL, ans.TransactionID, ans.State, ans.CodeVerifier, "")
}

// redirectToIdP sends the browser to the authorize URL, rewritten to come
// back to this host's callback, with the pending cookie.
func (h *Handler) redirectToIdP(w http.ResponseWriter, o Original, c clientauth.Client, issuer, appClient, authorizeURL, tx, state, verifier, sessionID string) error {
	loc, err := withRedirectURI(authorizeURL, o.Origin()+h.cfg.CallbackPath)
	if err != nil {
		return err
	}
	exp := h.cfg.Now().Add(h.cfg.SignInTTL)
	val, err := h.seal.seal(h.pendingName(), pending{Transaction: tx, State: state, Verifier: verifier, Issuer: issuer,
		AppClient: appClient, Return: o.URL(), Client: c.ID, Host: o.Host, Session: sessionID, Expires: exp.Unix()})
	if err != nil {
		return err
	}
	http.SetCookie(w, cookie(h.pendingName(), val, o.Scheme, exp))
	redirect(w, o, loc)
	return nil
}

func bearer(v string) (string, bool) {
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
