//go:build pprof

package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
)

// Builds with -tags pprof (stepgate-bench --profile does) serve Go's
// profiling endpoints on STEPGATE_PPROF_ADDR. Release builds leave this
// file out, so no deployment can expose them by configuration alone.
func init() {
	addr := os.Getenv("STEPGATE_PPROF_ADDR")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go func() {
		if err := http.ListenAndServe(addr, mux); err != nil {
			fmt.Fprintln(os.Stderr, "stepgate: pprof listener:", err)
		}
	}()
}
