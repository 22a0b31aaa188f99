package pdphttp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/stepgate/stepgate/pdp/authzen"
	"github.com/stepgate/stepgate/pdp/clientauth"
)

// OpenID AuthZEN Authorization API 1.0 on the decision listener:
//
//	POST /access/v1/evaluation         one decision: {"decision": bool, "context"?}
//	POST /access/v1/evaluations        a batch with defaults and evaluations_semantic
//	POST /access/v1/search/subject     who may do the action on the resource
//	POST /access/v1/search/resource    what the subject may do the action on
//	POST /access/v1/search/action      what the subject may do on the resource
//	GET  /.well-known/authzen-configuration   PDP metadata (no client key)
//
// The POST routes take the same client key as the native API. Evaluations
// go through pdp.Service.Evaluate/EvaluateBatch, so a user token in
// subject.properties.token is verified and every decision is audited exactly
// like a native one. stepgate's four outcomes map onto AuthZEN's boolean:
// allow is true; deny, step_up and ciba are false, step_up and ciba with what
// the user must do in the decision context.

// AuthZEN endpoint paths.
const (
	PathEvaluation     = "/access/v1/evaluation"
	PathEvaluations    = "/access/v1/evaluations"
	PathSearchSubject  = "/access/v1/search/subject"
	PathSearchResource = "/access/v1/search/resource"
	PathSearchAction   = "/access/v1/search/action"
	PathAuthZENConfig  = "/.well-known/authzen-configuration"
)

// Searcher answers AuthZEN searches; *pdp.Searcher implements it.
type Searcher interface {
	Search(ctx context.Context, c clientauth.Client, req authzen.SearchRequest) (*authzen.SearchPage, error)
}

// AuthZENConfig configures the AuthZEN routes.
type AuthZENConfig struct {
	// BaseURL is the external base URL of the decision API, announced as
	// policy_decision_point and prefixed to the endpoint URLs, e.g.
	// "https://pdp.example.com" (cmd/stepgate: external_url). Empty makes
	// the metadata refuse to guess: it is served only to a request whose
	// Host is the address the connection arrived on (127.0.0.1:8710 on a
	// developer's machine), never cached, and any other Host gets 404
	// naming the setting, so that a forged Host cannot announce an
	// attacker's endpoints to clients or caches.
	BaseURL string
	// Search answers the search endpoints; nil leaves them out (and out of
	// the metadata).
	Search Searcher
}

// RegisterAuthZEN adds the AuthZEN routes to the decision API router.
func (s *Server) RegisterAuthZEN(cfg AuthZENConfig) error {
	base, err := authzenBaseURL(cfg.BaseURL)
	if err != nil {
		return err
	}
	az := &authzenRoutes{s: s, search: cfg.Search, base: base}
	e := s.echo
	e.POST(PathEvaluation, s.evaluation, s.authenticate)
	e.POST(PathEvaluations, s.evaluations, s.authenticate)
	if cfg.Search != nil {
		e.POST(PathSearchSubject, az.searchHandler(authzen.SearchSubject), s.authenticate)
		e.POST(PathSearchResource, az.searchHandler(authzen.SearchResource), s.authenticate)
		e.POST(PathSearchAction, az.searchHandler(authzen.SearchAction), s.authenticate)
	}
	e.GET(PathAuthZENConfig, az.metadata)
	return nil
}

func authzenBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("pdphttp: AuthZEN base URL %q must be an absolute http(s) URL without query or fragment", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

type authzenRoutes struct {
	s      *Server
	search Searcher
	base   string
}

// authzenMetadata is the PDP metadata document of AuthZEN 1.0.
type authzenMetadata struct {
	PolicyDecisionPoint       string `json:"policy_decision_point"`
	AccessEvaluationEndpoint  string `json:"access_evaluation_endpoint"`
	AccessEvaluationsEndpoint string `json:"access_evaluations_endpoint"`
	SearchSubjectEndpoint     string `json:"search_subject_endpoint,omitempty"`
	SearchResourceEndpoint    string `json:"search_resource_endpoint,omitempty"`
	SearchActionEndpoint      string `json:"search_action_endpoint,omitempty"`
}

// metadata answers GET /.well-known/authzen-configuration. With a
// configured base URL the document is the same for every request and may
// be cached publicly; without one see requestBase.
func (a *authzenRoutes) metadata(c echo.Context) error {
	base := a.base
	cache := "public, max-age=300"
	if base == "" {
		var ok bool
		if base, ok = requestBase(c.Request()); !ok {
			return c.JSON(http.StatusNotFound, errorBody{"not_found", "AuthZEN discovery needs the decision API's public URL: " +
				"set external_url (STEPGATE_EXTERNAL_URL); without it the document is served only to requests " +
				"addressed to the listener's own address, and Host " + strconv.Quote(clientauth.Shorten(c.Request().Host, 100)) + " is not it"})
		}
		// Derived from the request: no shared cache may keep it.
		cache = "no-store"
		c.Response().Header().Set("Vary", "Host")
	}
	m := authzenMetadata{
		PolicyDecisionPoint:       base,
		AccessEvaluationEndpoint:  base + PathEvaluation,
		AccessEvaluationsEndpoint: base + PathEvaluations,
	}
	if a.search != nil {
		m.SearchSubjectEndpoint = base + PathSearchSubject
		m.SearchResourceEndpoint = base + PathSearchResource
		m.SearchActionEndpoint = base + PathSearchAction
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cache)
	return c.JSON(http.StatusOK, m)
}

// requestBase returns the base URL of a request addressed to the listener
// itself: its Host must be the local address the connection was accepted
// on (an IP and port, which nobody can forge from outside), and the scheme
// is that of the connection, never a forwarded header's.
func requestBase(r *http.Request) (string, bool) {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || local == nil || r.Host == "" {
		return "", false
	}
	host, port, err := net.SplitHostPort(r.Host)
	lhost, lport, lerr := net.SplitHostPort(local.String())
	if err != nil || lerr != nil || port != lport {
		return "", false
	}
	ip, lip := net.ParseIP(host), net.ParseIP(lhost)
	if ip == nil || lip == nil || !ip.Equal(lip) {
		return "", false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(ip.String(), port), true
}
