package trust

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// idpMaxResponseBytes caps discovery documents and JWKS; go-oidc reads
// bodies without a limit.
const idpMaxResponseBytes = 1 << 20

// wrapIdPClient returns a copy of client whose transport caps response
// bodies. How often the JWKS is fetched is the jwks package's business.
func wrapIdPClient(client *http.Client) *http.Client {
	c := *client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &idpTransport{base: base}
	return &c
}

// idpTransport is the http.RoundTripper for requests to an IdP.
type idpTransport struct {
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *idpTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, idpMaxResponseBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading response of %s: %w", req.URL.Redacted(), err)
	}
	if len(body) > idpMaxResponseBytes {
		return nil, fmt.Errorf("response of %s exceeds %d bytes", req.URL.Redacted(), idpMaxResponseBytes)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}
