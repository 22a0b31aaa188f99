package extauthz

import (
	"net/http"
	"slices"
	"testing"

	"github.com/stepgate/stepgate/pdp/forwardauth"
)

// An allow without a subject (none known to stepgate) removes the header,
// so that the upstream never sees one the client sent.
func TestAllowedRemovesUpstreamHeadersItDidNotSet(t *testing.T) {
	res := checkResponse(&forwardauth.Response{Status: http.StatusOK, Header: http.Header{forwardauth.HeaderDecisionID: {"d-1"}}})
	ok := res.GetOkResponse()
	if ok == nil {
		t.Fatalf("not allowed: %v", res)
	}
	if !slices.Equal(ok.GetHeadersToRemove(), []string{forwardauth.HeaderSubject}) {
		t.Errorf("removed %q, want only %s", ok.GetHeadersToRemove(), forwardauth.HeaderSubject)
	}
	if len(ok.GetHeaders()) != 1 || ok.GetHeaders()[0].GetHeader().GetValue() != "d-1" {
		t.Errorf("headers %v", ok.GetHeaders())
	}
}

// Every Set-Cookie value of a denied answer reaches the browser.
func TestDeniedKeepsEveryHeaderValue(t *testing.T) {
	res := checkResponse(&forwardauth.Response{Status: http.StatusFound,
		Header: http.Header{"Location": {"https://idp.example/authorize"}, "Set-Cookie": {"a=1", "b=2"}}})
	d := res.GetDeniedResponse()
	var cookies []string
	for _, h := range d.GetHeaders() {
		if h.GetHeader().GetKey() == "Set-Cookie" {
			cookies = append(cookies, h.GetHeader().GetValue())
		}
	}
	if !slices.Equal(cookies, []string{"a=1", "b=2"}) || int(d.GetStatus().GetCode()) != http.StatusFound {
		t.Errorf("status %v, cookies %q", d.GetStatus(), cookies)
	}
}
