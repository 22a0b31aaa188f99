package main

import (
	"io"
	"net/http"
	"time"
)

// noopFlag makes this binary serve the no-op target instead of benchmarking.
const noopFlag = "--serve-noop"

// noopBody is about the size of a small decision, so that the no-op pays
// for writing a comparable response.
var noopBody = []byte(`{"decision_id":"00000000-0000-0000-0000-000000000000","decision":"allow","reasons":["noop"],"policy_revision":0}`)

// serveNoop is the baseline: Go's net/http reading the request body and
// answering a constant, with the same server timeouts stepgate uses. It
// shows what the HTTP stack and the load generator cost on this machine.
func serveNoop(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(noopBody)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	return srv.ListenAndServe()
}
