//go:build unix

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/examples/billing/internal/demostack"
)

// TestLauncherStartsAndStopsAll runs the one command on free ports: the
// three processes come up, the app answers through stepgate's discovery of
// the provider, and cancelling (Ctrl-C) stops all of them and frees the
// ports.
func TestLauncherStartsAndStopsAll(t *testing.T) {
	requireProvider(t)
	ports := freeAddrs(t, 4)
	_, idpPort, _ := net.SplitHostPort(ports[3])
	args := []string{"-app", ports[0], "-stepgate", ports[1], "-admin", ports[2], "-idp-port", idpPort, "-window", "1m"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &watch{marker: "Billing demo ready", seen: make(chan struct{})}
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, args, out, out) }()
	select {
	case <-out.seen:
	case err := <-errc:
		t.Fatalf("launcher exited early: %v\n%s", err, out)
	case <-time.After(3 * time.Minute):
		t.Fatalf("launcher not ready:\n%s", out)
	}
	for _, want := range []string{"http://" + ports[0], demostack.Username + " / " + demostack.Password, demostack.OTP, "1m0s", "Ctrl-C"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	resp, err := http.Get("http://" + ports[0] + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Acme Billing") {
		t.Fatalf("app home: HTTP %d %.200s", resp.StatusCode, body)
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("launcher: %v\n%s", err, out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("launcher did not stop:\n%s", out)
	}
	for _, a := range ports {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("%s still in use after stopping: %v", a, err)
			continue
		}
		ln.Close()
	}
}

func requireProvider(t testing.TB) {
	t.Helper()
	root, err := demostack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(root, "testdata", "oidc-provider", "node_modules", "oidc-provider"))
	if nodeErr != nil || modErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the test provider is unavailable in CI (node: %v, npm ci: %v)", nodeErr, modErr)
		}
		t.Skipf("skipping: the test provider is unavailable (node: %v; run npm ci in testdata/oidc-provider: %v)", nodeErr, modErr)
	}
}

// freeAddrs returns n loopback addresses that were free a moment ago.
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// watch collects output and closes seen at the first write containing marker.
type watch struct {
	mu     sync.Mutex
	b      strings.Builder
	marker string
	seen   chan struct{}
	once   sync.Once
}

func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.marker) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
