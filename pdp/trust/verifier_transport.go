package trust

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

const (
	// idpMaxResponseBytes caps discovery documents and JWKS; go-oidc reads
	// bodies without a limit.
	idpMaxResponseBytes = 1 << 20
	// jwksMinRefreshInterval is the least time between two JWKS downloads.
	// go-oidc refetches the JWKS for every token whose kid it does not know;
	// without this floor a stream of forged tokens with random kids would
	// turn into a stream of requests to the IdP.
	jwksMinRefreshInterval = 5 * time.Second
)

// wrapIdPClient returns a copy of client whose transport caps response
// bodies and, when reuseFor > 0, answers repeated GETs of the same URL from
// the last successful response for that long.
func wrapIdPClient(client *http.Client, now func() time.Time, reuseFor time.Duration) *http.Client {
	c := *client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &idpTransport{base: base, now: now, reuseFor: reuseFor}
	return &c
}

// idpTransport is the http.RoundTripper for requests to an IdP.
type idpTransport struct {
	base     http.RoundTripper
	now      func() time.Time
	reuseFor time.Duration

	mu      sync.Mutex
	lastURL string
	last    []byte
	header  http.Header
	fetched time.Time
}

// RoundTrip implements http.RoundTripper.
func (t *idpTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if resp := t.reuse(req); resp != nil {
		return resp, nil
	}
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
	if t.reuseFor > 0 && req.Method == http.MethodGet && resp.StatusCode == http.StatusOK {
		t.mu.Lock()
		t.lastURL, t.last, t.header, t.fetched = req.URL.String(), body, resp.Header.Clone(), t.now()
		t.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// reuse answers req from the last response when it is recent enough.
func (t *idpTransport) reuse(req *http.Request) *http.Response {
	if t.reuseFor <= 0 || req.Method != http.MethodGet {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil || t.lastURL != req.URL.String() {
		return nil
	}
	if age := t.now().Sub(t.fetched); age < 0 || age >= t.reuseFor {
		return nil
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        t.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(t.last)),
		ContentLength: int64(len(t.last)),
		Request:       req,
	}
}
