package upstream_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/examples/proxy/upstream"
)

// TestPageShowsWhatStepgateSaid: the page names its path and the subject
// and decision id the proxy passed on, escaped, and is never cached.
func TestPageShowsWhatStepgateSaid(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/billing/<x>", nil)
	req.Header.Set("X-Stepgate-Subject", `alice<script>`)
	req.Header.Set("X-Stepgate-Decision-Id", "01a2")
	rec := httptest.NewRecorder()
	upstream.Handler().ServeHTTP(rec, req)
	body := rec.Body.String()
	for _, want := range []string{`<h1 id="page">/billing/&lt;x&gt;</h1>`, `<p id="subject">alice&lt;script&gt;</p>`, `<p id="decision">01a2</p>`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("status %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
}
