package extauthz

import (
	"encoding/json"
	"net/http"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"

	"github.com/stepgate/stepgate/pdp/forwardauth"
)

// upstreamHeaders are what an allowed request carries to the upstream.
var upstreamHeaders = []string{forwardauth.HeaderDecisionID, forwardauth.HeaderSubject}

// checkResponse renders a forward-auth answer for Envoy.
func checkResponse(res *forwardauth.Response) *authv3.CheckResponse {
	st := res.Status
	if st == 0 {
		st = http.StatusOK
	}
	if st == http.StatusOK {
		return allowed(res.Header)
	}
	return denied(st, res.Header, res.Body)
}

// allowed sets stepgate's headers on the upstream request, replacing any
// the client sent, and removes those stepgate did not set.
func allowed(h http.Header) *authv3.CheckResponse {
	ok := &authv3.OkHttpResponse{}
	for _, name := range upstreamHeaders {
		if v := h.Get(name); v != "" {
			ok.Headers = append(ok.Headers, header(name, v, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
		} else {
			ok.HeadersToRemove = append(ok.HeadersToRemove, name)
		}
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
	}
}

// denied is the answer Envoy sends the client instead of the upstream's:
// status, every header (Location, WWW-Authenticate, Set-Cookie, the CIBA
// status link) and the JSON body.
func denied(st int, h http.Header, body []byte) *authv3.CheckResponse {
	d := &authv3.DeniedHttpResponse{Status: &typev3.HttpStatus{Code: typev3.StatusCode(st)}, Body: string(body)}
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			// Append, so that several Set-Cookie values all arrive.
			d.Headers = append(d.Headers, header(name, v, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD))
		}
	}
	code := codes.PermissionDenied
	if st == http.StatusUnauthorized {
		code = codes.Unauthenticated
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(code)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: d},
	}
}

// errorResponse denies a request that could not be decided, with the
// decision API's error shape.
func errorResponse(st int, code, description string) *authv3.CheckResponse {
	body, _ := json.Marshal(map[string]string{"error": code, "error_description": description})
	h := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	return denied(st, h, append(body, '\n'))
}

func header(name, value string, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: name, Value: value}, AppendAction: action}
}
