package forwardauth

import (
	"net/http"
)

// Response is a forward-auth answer as status, headers and body, so that
// every transport renders the same mapping. It is an http.ResponseWriter
// for the code that builds it.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// WriteTo writes the answer to w.
func (r *Response) WriteTo(w http.ResponseWriter) {
	for k, vs := range r.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(r.status())
	if len(r.Body) > 0 {
		_, _ = w.Write(r.Body)
	}
}

func (r *Response) status() int {
	if r.Status == 0 {
		return http.StatusOK
	}
	return r.Status
}

// responseWriter lets the builders write into a Response.
type responseWriter struct{ r *Response }

func (w responseWriter) Header() http.Header { return w.r.Header }

func (w responseWriter) Write(b []byte) (int, error) {
	w.r.Body = append(w.r.Body, b...)
	return len(b), nil
}

func (w responseWriter) WriteHeader(status int) {
	if w.r.Status == 0 {
		w.r.Status = status
	}
}

// requestCookie reads one cookie from request headers.
func requestCookie(header http.Header, name string) (*http.Cookie, error) {
	return (&http.Request{Header: header}).Cookie(name)
}
