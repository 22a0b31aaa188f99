package backchannel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client authentication methods at the token and backchannel endpoints.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
)

// maxResponse bounds what is read from an authorization server.
const maxResponse = 1 << 20

// Endpoints are the authorization server's CIBA endpoints, from discovery
// (backchannel_authentication_endpoint, token_endpoint).
type Endpoints struct {
	Backchannel string
	Token       string
}

// Credentials authenticate the confidential CIBA client.
type Credentials struct {
	ClientID     string
	ClientSecret string
	// AuthMethod is AuthClientSecretBasic (the default when empty) or
	// AuthClientSecretPost.
	AuthMethod string
}

// Client speaks the two CIBA exchanges: the backchannel authentication
// request (Start) and one token request (Poll). It keeps no state.
type Client struct {
	http *http.Client
}

// NewClient returns a Client using hc; nil means an http.Client with a 10 s
// timeout. Give it a timeout: a poll must not outlive the poller's lease.
func NewClient(hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{http: hc}
}

// post sends a client-authenticated form POST and decodes a 200 JSON answer
// into out. Any other answer becomes an *Error.
func (c *Client) post(ctx context.Context, op, endpoint string, creds Credentials, form url.Values, out any) error {
	if endpoint == "" {
		return fmt.Errorf("%s: no endpoint configured", op)
	}
	switch creds.AuthMethod {
	case "", AuthClientSecretBasic, AuthClientSecretPost:
	default:
		return fmt.Errorf("%s: unsupported client authentication method %q", op, creds.AuthMethod)
	}
	if creds.AuthMethod == AuthClientSecretPost {
		form.Set("client_id", creds.ClientID)
		form.Set("client_secret", creds.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s: build request: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if creds.AuthMethod != AuthClientSecretPost {
		// RFC 6749 §2.3.1: both parts are form-encoded before base64.
		req.SetBasicAuth(url.QueryEscape(creds.ClientID), url.QueryEscape(creds.ClientSecret))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s: read response: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return responseError(op, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &Error{Op: op, StatusCode: resp.StatusCode, Description: "malformed JSON response: " + err.Error()}
	}
	return nil
}

// responseError turns a non-200 answer into an *Error, keeping the OAuth
// error code when the body is an OAuth error object.
func responseError(op string, status int, body []byte) *Error {
	var oe struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &oe) == nil && oe.Code != "" {
		return &Error{Op: op, StatusCode: status, Code: oe.Code, Description: oe.Description}
	}
	excerpt := strings.TrimSpace(string(body))
	if len(excerpt) > 200 {
		excerpt = excerpt[:200]
	}
	return &Error{Op: op, StatusCode: status, Description: excerpt}
}
