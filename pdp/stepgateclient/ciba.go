package stepgateclient

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// CIBAStatus is where a CIBA request stepgate runs stands.
type CIBAStatus struct {
	ID             string         `json:"id"`
	DecisionID     string         `json:"decision_id"`
	Status         string         `json:"status"` // pending | approved | denied | expired | error
	ExpiresIn      int64          `json:"expires_in"`
	BindingMessage string         `json:"binding_message"`
	Claims         map[string]any `json:"claims"`
	Error          string         `json:"error_description"`
}

// StartCIBA starts the CIBA request a `ciba` decision offered. Starting it
// again returns the same request.
func (c *Client) StartCIBA(ctx context.Context, decisionID string) (*CIBAStatus, error) {
	var st CIBAStatus
	if err := c.do(ctx, http.MethodPost, "/v1/ciba", map[string]string{"decision_id": decisionID}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// CIBA reads a request's status.
func (c *Client) CIBA(ctx context.Context, id string) (*CIBAStatus, error) {
	var st CIBAStatus
	if err := c.do(ctx, http.MethodGet, "/v1/ciba/"+url.PathEscape(id), nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// WaitCIBA polls the status every interval (default 2 s) until it is no
// longer pending or ctx ends. tick, when not nil, replaces time.After (tests).
func (c *Client) WaitCIBA(ctx context.Context, id string, interval time.Duration, tick func(time.Duration) <-chan time.Time) (*CIBAStatus, error) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	if tick == nil {
		tick = time.After
	}
	for {
		st, err := c.CIBA(ctx, id)
		if err != nil || st.Status != "pending" {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-tick(interval):
		}
	}
}
