package extauthz

import (
	"errors"
	"net/http"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/stepgate/stepgate/pdp/forwardauth"
)

// originalOf reads the original request from Envoy's attributes. It goes
// through forwardauth.OriginalOf, as if Envoy had forwarded the facts in
// Traefik's headers, so that host, scheme and path are checked and cleaned
// by the same code as for /v1/forward-auth.
func originalOf(req *authv3.CheckRequest) (forwardauth.Original, http.Header, error) {
	hr := req.GetAttributes().GetRequest().GetHttp()
	if hr == nil {
		return forwardauth.Original{}, nil, errors.New("the check request carries no attributes.request.http")
	}
	header := headersOf(hr)
	scheme := hr.GetScheme()
	if scheme == "" {
		scheme = "http"
	}
	// Envoy's own facts win over any forwarded header the client sent.
	fwd := header.Clone()
	fwd.Set("X-Forwarded-Method", hr.GetMethod())
	fwd.Set("X-Forwarded-Proto", scheme)
	fwd.Set("X-Forwarded-Host", hr.GetHost())
	fwd.Set("X-Forwarded-Uri", hr.GetPath())
	fwd.Del("X-Original-URI")
	o, err := forwardauth.OriginalOf(&http.Request{Method: hr.GetMethod(), Host: hr.GetHost(), Header: fwd})
	return o, header, err
}

// headersOf collects the original request's headers: header_map when Envoy
// sends it (encode_raw_headers), else the headers map. Envoy lowercases
// names; http.Header wants them canonical.
func headersOf(hr *authv3.AttributeContext_HttpRequest) http.Header {
	h := http.Header{}
	if hm := hr.GetHeaderMap(); hm != nil {
		for _, hv := range hm.GetHeaders() {
			v := hv.GetValue()
			if v == "" {
				v = string(hv.GetRawValue())
			}
			h.Add(hv.GetKey(), v)
		}
		return h
	}
	for k, v := range hr.GetHeaders() {
		h.Set(k, v)
	}
	return h
}
