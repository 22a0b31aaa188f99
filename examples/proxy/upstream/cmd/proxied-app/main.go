// Command proxied-app serves examples/proxy/upstream's page on
// $PROXIED_APP_ADDR (default 127.0.0.1:8080): the app the docker-compose
// `proxy` profile puts behind NGINX and stepgate.
package main

import (
	"cmp"
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/stepgate/stepgate/examples/proxy/upstream"
)

func main() {
	addr := cmp.Or(os.Getenv("PROXIED_APP_ADDR"), "127.0.0.1:8080")
	srv := &http.Server{Addr: addr, Handler: upstream.Handler(), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("proxied-app: serving on %s", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
