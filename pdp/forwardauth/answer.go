package forwardauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/policy"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
)

// Response headers of a decided subrequest.
const (
	HeaderDecisionID = "X-Stepgate-Decision-Id"
	HeaderSubject    = "X-Stepgate-Subject"
	// HeaderCIBAStatus is where the proxy's client follows a ciba decision.
	HeaderCIBAStatus = "X-Stepgate-Ciba-Status"
)

// answerBody is the JSON body of every answer but allow.
type answerBody struct {
	DecisionID string               `json:"decision_id,omitempty"`
	Decision   policy.Outcome       `json:"decision"`
	Reasons    []string             `json:"reasons"`
	Require    *policy.Requirements `json:"requirements,omitempty"`
	CIBA       *pdp.CIBAAnswer      `json:"ciba,omitempty"`
}

// answer renders decision d. A browser navigation with stepgate's cookie
// is redirected to step up; a bearer-token call, browser or not, gets the
// RFC 9470 challenge, which its client knows how to meet (a redirect would
// bring back a cookie the bearer token still outranks).
func (h *Handler) answer(w http.ResponseWriter, o Original, c clientauth.Client, d *pdp.Decision, sess *Session, token string) error {
	w.Header().Set(HeaderDecisionID, d.ID)
	body := answerBody{DecisionID: d.ID, Decision: d.Outcome, Reasons: d.Reasons, Require: d.Requirements}
	switch d.Outcome {
	case policy.Allow:
		if sess != nil {
			w.Header().Set(HeaderSubject, sess.Subject)
		} else if sub := tokenSubject(token); sub != "" {
			w.Header().Set(HeaderSubject, sub)
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return nil
	case policy.StepUp:
		if su := d.StepUp; token == "" && o.Browser() && su != nil && su.AuthorizeURL != "" && sess != nil {
			if ic, ok := h.cfg.Verifier.Issuer(sess.Issuer); ok && ic.Authorize != nil {
				return h.redirectToIdP(w, o, c, ic.Issuer, ic.Authorize.ClientID, su.AuthorizeURL, su.TransactionID, su.State, su.CodeVerifier, sess.ID)
			}
		}
		if d.WWWAuthenticate != "" {
			w.Header().Set("WWW-Authenticate", d.WWWAuthenticate)
		}
		writeAnswer(w, http.StatusUnauthorized, body)
	case policy.CIBA:
		if d.CIBA != nil && d.CIBA.StatusURL != "" {
			w.Header().Set(HeaderCIBAStatus, d.CIBA.StatusURL)
		}
		body.CIBA = d.CIBA
		writeAnswer(w, http.StatusUnauthorized, body)
	default:
		if d.WWWAuthenticate != "" {
			// A bad token: the client can fix it by getting a new one.
			w.Header().Set("WWW-Authenticate", d.WWWAuthenticate)
			writeAnswer(w, http.StatusUnauthorized, body)
			return nil
		}
		writeAnswer(w, http.StatusForbidden, body)
	}
	return nil
}

// tokenSubject reads sub from a JWT's payload. Only for a token the
// decision allowed: pdp verified exactly this string before the policy
// allowed it, so its payload is the verified one.
func tokenSubject(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var p struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return ""
	}
	return p.Sub
}

func stepupPlan(iss *trust.IssuerConfig, req policy.Requirements, clientID, returnTo, action string) stepup.Plan {
	return stepup.Plan{Issuer: iss, Requirements: req, ClientID: clientID, ReturnTo: returnTo, Action: action,
		Reason: "sign in to continue"}
}

// withRedirectURI points the authorize request back at this host's
// callback: the proxy serves many hosts, each with its own callback.
func withRedirectURI(authorizeURL, redirectURI string) (string, error) {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("redirect_uri", redirectURI)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// redirect sends the browser to loc: a 302, or for NGINX a 401 carrying
// Location, which auth_request_set and error_page turn into the redirect.
func redirect(w http.ResponseWriter, o Original, loc string) {
	w.Header().Set("Location", loc)
	w.Header().Set("Cache-Control", "no-store")
	if o.NGINX {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusFound)
}

func writeAnswer(w http.ResponseWriter, status int, body answerBody) {
	if body.Reasons == nil {
		body.Reasons = []string{}
	}
	b, _ := json.Marshal(body) // plain strings and numbers: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
