//go:build unix

package pdptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// PendingCIBARequest is a backchannel authentication request waiting on the
// (simulated) user's device.
type PendingCIBARequest struct {
	AuthReqID      string `json:"auth_req_id"`
	ClientID       string `json:"client_id"`
	Sub            string `json:"sub"`
	BindingMessage string `json:"binding_message,omitempty"`
	Scope          string `json:"scope"`
	ACRValues      string `json:"acr_values,omitempty"`
}

// ApproveCIBA approves a pending request as the user's device would. An empty
// acr and nil amr mean a multi-factor approval: pdp.PAPEMultiFactor and
// ["pwd","otp","mfa"]. auth_time is the moment of approval.
func (p *OIDCProvider) ApproveCIBA(authReqID, acr string, amr []string) error {
	body := map[string]any{}
	if acr != "" {
		body["acr"] = acr
	}
	if amr != nil {
		body["amr"] = amr
	}
	return p.testRoute(http.MethodPost, "/__test/ciba/"+url.PathEscape(authReqID)+"/approve", body, nil)
}

// DenyCIBA denies a pending request; the next poll gets access_denied.
func (p *OIDCProvider) DenyCIBA(authReqID string) error {
	return p.testRoute(http.MethodPost, "/__test/ciba/"+url.PathEscape(authReqID)+"/deny", nil, nil)
}

// PendingCIBA lists the requests that are neither approved nor denied yet.
func (p *OIDCProvider) PendingCIBA() ([]PendingCIBARequest, error) {
	var out struct {
		Pending []PendingCIBARequest `json:"pending"`
	}
	if err := p.testRoute(http.MethodGet, "/__test/ciba/pending", nil, &out); err != nil {
		return nil, err
	}
	return out.Pending, nil
}

func (p *OIDCProvider) testRoute(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("test provider %s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.issuer+path, body)
	if err != nil {
		return fmt.Errorf("test provider %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("test provider %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("test provider %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("test provider %s %s: %s: %s", method, path, resp.Status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("test provider %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}
