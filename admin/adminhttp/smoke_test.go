package adminhttp_test

import (
	"net/http"
	"testing"
)

func TestPagesRenderForAdmin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	for _, p := range []string{"/", "/policies", "/policies/1", "/policies/1/edit", "/policies/1/playground", "/policies/1/impact",
		"/policies/diff?a=1&b=1", "/policies/rollback", "/audit", "/audit/verify", "/audit/admin", "/clients", "/clients/new"} {
		t.Run(p, func(t *testing.T) {
			r := b.get(p)
			if r.Code != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", p, r.Code, r.Body)
			}
		})
	}
}
