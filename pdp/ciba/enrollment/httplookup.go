package enrollment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HTTPConfig configures an HTTP lookup source.
type HTTPConfig struct {
	// URL is the lookup URL; {sub} and {iss} are replaced by the user's
	// query-escaped sub and issuer. It must answer 200 {"push": true|false}.
	URL string
	// Headers are sent with every lookup (an Authorization header, say).
	Headers map[string]string
	// HTTPClient defaults to http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock for Retry-After dates; default time.Now.
	Now func() time.Time
}

// HTTP is a Source asking a URL that answers {"push": true|false}, for
// providers without a management API stepgate speaks.
type HTTP struct{ cfg HTTPConfig }

// NewHTTP validates cfg and returns the source.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	probe := strings.NewReplacer("{sub}", "x", "{iss}", "x").Replace(cfg.URL)
	u, err := url.Parse(probe)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("enrollment: http lookup: url %q is not an http(s) URL", cfg.URL)
	}
	if !strings.Contains(cfg.URL, "{sub}") {
		return nil, errors.New("enrollment: http lookup: url must contain {sub}")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &HTTP{cfg: cfg}, nil
}

// Name returns "http".
func (h *HTTP) Name() string { return "http" }

const opHTTP = "enrollment lookup"

// Lookup asks the URL about u.
func (h *HTTP) Lookup(ctx context.Context, u User) (Result, error) {
	target := strings.NewReplacer("{sub}", url.QueryEscape(u.Subject), "{iss}", url.QueryEscape(u.Issuer)).Replace(h.cfg.URL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", opHTTP, err)
	}
	for k, v := range h.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := h.cfg.HTTPClient.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", opHTTP, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusTooManyRequests:
		return Result{}, rateLimited(opHTTP, resp, h.cfg.Now())
	default:
		return Result{}, statusError(opHTTP, resp)
	}
	var body struct {
		Push *bool `json:"push"`
	}
	if err := decodeJSON(opHTTP, resp, &body); err != nil {
		return Result{}, err
	}
	if body.Push == nil {
		return Result{}, fmt.Errorf("%s: response has no boolean \"push\"", opHTTP)
	}
	if *body.Push {
		return Result{Capable: true, Detail: "enrollment lookup: push device enrolled"}, nil
	}
	return Result{Detail: "enrollment lookup: no push device enrolled"}, nil
}

// Assume is a Source that answers capable for every user without asking
// anyone: for providers whose CIBA channel reaches every user.
type Assume struct{}

// Name returns "assume_enrolled".
func (Assume) Name() string { return "assume_enrolled" }

// Lookup answers capable.
func (Assume) Lookup(context.Context, User) (Result, error) {
	return Result{Capable: true, Detail: "assumed enrolled (enrollment mode assume_enrolled)"}, nil
}
