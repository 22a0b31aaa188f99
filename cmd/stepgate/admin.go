package main

import (
	"net/http"

	"github.com/stepgate/stepgate/pdp"
)

// adminHandler builds the admin listener's handler.
func adminHandler(a *app, svc *pdp.Service, clients *pdp.Authenticator) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	return mux, nil
}
