package stepgateclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Outcomes of a decision.
const (
	Allow  = "allow"
	Deny   = "deny"
	StepUp = "step_up"
	CIBA   = "ciba"
)

// Request is a native decision request.
type Request struct {
	Token     string         `json:"token,omitempty"`
	Claims    map[string]any `json:"claims,omitempty"`
	Action    string         `json:"action"`
	Resource  *Resource      `json:"resource,omitempty"`
	Context   map[string]any `json:"context,omitempty"`
	ReturnTo  string         `json:"return_to,omitempty"`
	SessionID string         `json:"session_id,omitempty"`
}

// Resource is what the action is done to.
type Resource struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Decision is stepgate's answer.
type Decision struct {
	ID              string   `json:"decision_id"`
	Outcome         string   `json:"decision"`
	Reasons         []string `json:"reasons"`
	StepUp          *StepUpAnswer
	CIBA            *CIBAAnswer
	WWWAuthenticate string `json:"www_authenticate"`
}

// StepUpAnswer is everything needed to send the user to the IdP.
type StepUpAnswer struct {
	AuthorizeURL    string    `json:"authorize_url"`
	WWWAuthenticate string    `json:"www_authenticate"`
	TransactionID   string    `json:"transaction_id"`
	State           string    `json:"state"`
	Nonce           string    `json:"nonce"`
	CodeVerifier    string    `json:"code_verifier"`
	ExpiresAt       time.Time `json:"expires_at"`
}

// CIBAAnswer names the CIBA request stepgate offers to run.
type CIBAAnswer struct {
	ID        string `json:"id"`
	StatusURL string `json:"status_url"`
	Request   struct {
		BindingMessage string `json:"binding_message"`
	} `json:"request"`
}

// UnmarshalJSON reads the step_up and ciba members.
func (d *Decision) UnmarshalJSON(b []byte) error {
	type plain Decision
	var w struct {
		plain
		StepUp *StepUpAnswer `json:"step_up"`
		CIBA   *CIBAAnswer   `json:"ciba"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = Decision(w.plain)
	d.StepUp, d.CIBA = w.StepUp, w.CIBA
	return nil
}

// Error is a stepgate error answer.
type Error struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("stepgate: HTTP %d: %s: %s", e.Status, e.Code, e.Description)
}

// Client calls the decision API with a client key. It is safe for
// concurrent use.
type Client struct {
	// BaseURL is the decision API, e.g. http://127.0.0.1:8710.
	BaseURL string
	// Key is the client key sent as Authorization: Bearer.
	Key string
	// HTTP defaults to a client with a 10 s timeout.
	HTTP *http.Client
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

// Decide asks for one decision.
func (c *Client) Decide(ctx context.Context, r Request) (*Decision, error) {
	var d Decision
	if err := c.do(ctx, http.MethodPost, "/v1/decision", r, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Verified is a successful /v1/stepup/verify.
type Verified struct {
	Verified   bool           `json:"verified"`
	Claims     map[string]any `json:"claims"`
	ReturnTo   string         `json:"return_to"`
	DecisionID string         `json:"decision_id"`
	Session    *struct {
		ID        string    `json:"id"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"session"`
}

// VerifyStepUp checks the ID token the user came back with; sessionID
// (optional) is the app's session to elevate.
func (c *Client) VerifyStepUp(ctx context.Context, transactionID, idToken, sessionID string) (*Verified, error) {
	var v Verified
	body := map[string]string{"transaction_id": transactionID, "id_token": idToken}
	if sessionID != "" {
		body["session_id"] = sessionID
	}
	if err := c.do(ctx, http.MethodPost, "/v1/stepup/verify", body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// RevokeSession ends a session's elevation (call it on sign-out).
func (c *Client) RevokeSession(ctx context.Context, sessionID string) error {
	return c.do(ctx, http.MethodPost, "/v1/sessions/"+url.PathEscape(sessionID)+"/revoke", nil, nil)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("stepgate %s: encode: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("stepgate %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("stepgate %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("stepgate %s: read: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Code == "" {
			e.Code, e.Description = "http_error", strings.TrimSpace(string(raw))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("stepgate %s: decode: %w", path, err)
	}
	return nil
}

// IsCode reports whether err is a stepgate error with that code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
