package adminhttp_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stepgate/stepgate/webui/webuitest"
)

// newChrome starts the shared headless Chromium for the admin UI at base.
func newChrome(t testing.TB, base string) *webuitest.Chrome {
	return webuitest.NewChrome(t, base, webuitest.Options{})
}

// startAdmin serves the env's admin UI on a real listener for the browser.
func startAdmin(t testing.TB, e *env) string {
	t.Helper()
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	return srv.URL
}
