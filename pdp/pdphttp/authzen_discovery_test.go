package pdphttp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/pdp/clientauth"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/pdptest"
)

// discoveryServer serves the decision API with the AuthZEN routes and the
// given base URL.
func discoveryServer(t *testing.T, baseURL string) *httptest.Server {
	t.Helper()
	h := newHarness(t)
	api, err := pdphttp.New(pdphttp.Config{Service: h.svc, Clients: clientauth.NewAuthenticator(pdptest.Clients{}, 0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.RegisterAuthZEN(pdphttp.AuthZENConfig{BaseURL: baseURL}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv
}

func getDiscovery(t *testing.T, srv *httptest.Server, host string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+pdphttp.PathAuthZENConfig, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestAuthZENDiscoveryHostileHost: a forged Host (or forwarded header)
// never ends up in the discovery document, and a document derived from
// the request is never cacheable.
func TestAuthZENDiscoveryHostileHost(t *testing.T) {
	hostile := map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "Forwarded": "host=evil.example;proto=https"}

	t.Run("without external_url, a foreign Host is refused", func(t *testing.T) {
		srv := discoveryServer(t, "")
		for _, host := range []string{"evil.example", "evil.example:80", "localhost" + srv.URL[strings.LastIndex(srv.URL, ":"):], "127.0.0.2" + srv.URL[strings.LastIndex(srv.URL, ":"):]} {
			resp, body := getDiscovery(t, srv, host, hostile)
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "external_url") {
				t.Errorf("Host %s: %d %s, want 404 naming external_url", host, resp.StatusCode, body)
			}
			if strings.Contains(body, "_endpoint") {
				t.Errorf("Host %s: endpoints announced: %s", host, body)
			}
		}
	})

	t.Run("without external_url, the listener's own address is served uncached", func(t *testing.T) {
		srv := discoveryServer(t, "")
		resp, body := getDiscovery(t, srv, "", hostile)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		if m["policy_decision_point"] != srv.URL || m["access_evaluation_endpoint"] != srv.URL+pdphttp.PathEvaluation {
			t.Errorf("document %v, want it based on %s", m, srv.URL)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" || resp.Header.Get("Vary") != "Host" {
			t.Errorf("Cache-Control %q Vary %q, want no-store and Vary: Host", cc, resp.Header.Get("Vary"))
		}
	})

	t.Run("with external_url, the Host does not matter", func(t *testing.T) {
		srv := discoveryServer(t, "https://pdp.example.com/")
		resp, body := getDiscovery(t, srv, "evil.example", hostile)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "evil") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		if m["access_evaluations_endpoint"] != "https://pdp.example.com"+pdphttp.PathEvaluations {
			t.Errorf("document %v", m)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
			t.Errorf("Cache-Control %q: the configured document may be cached", cc)
		}
	})
}
