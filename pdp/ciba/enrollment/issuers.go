package enrollment

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp/trust"
)

// Options are what every issuer's Checker shares.
type Options struct {
	// HTTPClient for the lookups; default http.DefaultClient.
	HTTPClient *http.Client
	Observer   Observer
	Now        func() time.Time
	Logger     *slog.Logger
}

// Issuers holds a Checker for every issuer configured with
// ciba.enrollment. The zero value and nil hold none.
type Issuers struct {
	byIssuer map[string]*Checker
}

// NewIssuers builds a Checker for every issuer whose CIBA configuration has
// an enrollment entry. A configuration that cannot work is an error naming
// the issuer.
func NewIssuers(issuers []trust.IssuerConfig, opts Options) (*Issuers, error) {
	out := &Issuers{byIssuer: map[string]*Checker{}}
	for _, ic := range issuers {
		if ic.CIBA == nil || ic.CIBA.Enrollment == nil {
			continue
		}
		src, err := SourceFor(ic, opts)
		if err != nil {
			return nil, fmt.Errorf("issuer %s: ciba.enrollment: %w", ic.Issuer, err)
		}
		ec := ic.CIBA.Enrollment
		c, err := NewChecker(CheckerConfig{Source: src, TTL: ec.TTL, FailureTTL: ec.FailureTTL, Timeout: ec.Timeout,
			Observer: opts.Observer, Now: opts.Now, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("issuer %s: ciba.enrollment: %w", ic.Issuer, err)
		}
		out.byIssuer[ic.Issuer] = c
	}
	return out, nil
}

// Check answers for the user sub of issuer; ok is false when that issuer
// has no enrollment lookup configured.
func (s *Issuers) Check(ctx context.Context, issuer, sub string) (a Answer, ok bool) {
	if s == nil {
		return Answer{}, false
	}
	c, ok := s.byIssuer[issuer]
	if !ok {
		return Answer{}, false
	}
	if sub == "" {
		return Answer{Status: Unknown, Source: c.cfg.Source.Name(), Reason: "the user has no sub to look up"}, true
	}
	return c.Check(ctx, User{Issuer: issuer, Subject: sub}), true
}

// Configured reports whether any issuer has an enrollment lookup.
func (s *Issuers) Configured() bool { return s != nil && len(s.byIssuer) > 0 }

// SourceFor builds the Source an issuer's ciba.enrollment describes. The
// mode defaults to auth0 for the auth0 dialect; other dialects must name
// one. Auth0 credentials default to the CIBA client's.
func SourceFor(ic trust.IssuerConfig, opts Options) (Source, error) {
	ec := ic.CIBA.Enrollment
	mode := ec.Mode
	if mode == "" {
		if ic.Dialect != trust.DialectAuth0 {
			return nil, fmt.Errorf("mode is required for dialect %q (%s, %s or %s)", ic.Dialect,
				trust.EnrollmentAuth0, trust.EnrollmentHTTP, trust.EnrollmentAssume)
		}
		mode = trust.EnrollmentAuth0
	}
	switch mode {
	case trust.EnrollmentAuth0:
		base, err := auth0Base(ec.Domain, ic.Issuer)
		if err != nil {
			return nil, err
		}
		id, secret := ec.ClientID, ec.ClientSecret
		if id == "" && secret == "" {
			id, secret = ic.CIBA.ClientID, ic.CIBA.ClientSecret
		}
		return NewAuth0(Auth0Config{BaseURL: base, Audience: ec.Audience, ClientID: id, ClientSecret: secret,
			HTTPClient: opts.HTTPClient, Now: opts.Now})
	case trust.EnrollmentHTTP:
		return NewHTTP(HTTPConfig{URL: ec.URL, Headers: ec.Headers, HTTPClient: opts.HTTPClient, Now: opts.Now})
	case trust.EnrollmentAssume:
		return Assume{}, nil
	}
	return nil, fmt.Errorf("unknown mode %q (%s, %s or %s)", mode, trust.EnrollmentAuth0, trust.EnrollmentHTTP, trust.EnrollmentAssume)
}

// auth0Base is the tenant's base URL: the configured domain (a bare host
// means https), else the issuer's scheme and host.
func auth0Base(domain, issuer string) (string, error) {
	if domain == "" {
		u, err := url.Parse(issuer)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("domain is required: issuer %q has no host", issuer)
		}
		return u.Scheme + "://" + u.Host, nil
	}
	if !strings.Contains(domain, "://") {
		domain = "https://" + domain
	}
	return domain, nil
}
