package enrollment

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

const opToken = "auth0 management api token"

// tokenSource holds the Management API access token of the
// client-credentials grant. It is kept until shortly before it expires, and
// dropped early when the API refuses it (invalidate). x/oauth2's
// clientcredentials cannot drop a token it cached, nor report a 429's
// Retry-After, which is why this small client exists.
type tokenSource struct {
	cfg   Auth0Config
	group singleflight.Group

	mu      sync.Mutex
	access  string
	renewAt time.Time
}

// token returns a cached token, or fetches one (a single fetch however many
// callers need it at once).
func (t *tokenSource) token(ctx context.Context) (string, error) {
	t.mu.Lock()
	tok, renewAt := t.access, t.renewAt
	t.mu.Unlock()
	if tok != "" && t.cfg.Now().Before(renewAt) {
		return tok, nil
	}
	ch := t.group.DoChan("token", func() (any, error) { return t.fetch(context.WithoutCancel(ctx)) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", fmt.Errorf("%s: %w", opToken, ctx.Err())
	}
}

// invalidate drops tok if it is still the cached token.
func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access == tok {
		t.access, t.renewAt = "", time.Time{}
	}
}

func (t *tokenSource) fetch(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {t.cfg.ClientID},
		"client_secret": {t.cfg.ClientSecret}, "audience": {t.cfg.Audience}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.BaseURL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("%s: %w", opToken, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := t.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s: %w", opToken, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusTooManyRequests:
		return "", rateLimited(opToken, resp, t.cfg.Now())
	default:
		return "", statusError(opToken, resp)
	}
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := decodeJSON(opToken, resp, &body); err != nil {
		return "", err
	}
	if body.AccessToken == "" || !strings.EqualFold(body.TokenType, "Bearer") || body.ExpiresIn <= 0 {
		return "", fmt.Errorf("%s: response lacks a bearer access_token with a positive expires_in", opToken)
	}
	life := time.Duration(body.ExpiresIn) * time.Second
	// Renew a minute early (half the lifetime for short-lived tokens), so
	// that a token never expires between the check and the API call.
	margin := min(time.Minute, life/2)
	t.mu.Lock()
	t.access, t.renewAt = body.AccessToken, t.cfg.Now().Add(life-margin)
	t.mu.Unlock()
	return body.AccessToken, nil
}
