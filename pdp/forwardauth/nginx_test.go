//go:build unix

package forwardauth_test

import (
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	proxiedapp "github.com/stepgate/stepgate/examples/proxy/upstream"
)

// requireNGINX returns Debian's nginx binary, or skips the test (fails it
// in CI, which must run it: .ci/prepare installs nginx-light).
func requireNGINX(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr == nil {
			return "/usr/sbin/nginx"
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("nginx is not on PATH; CI must run the reverse-proxy test (.ci/prepare installs Debian's nginx-light)")
		}
		t.Skipf("nginx is not on PATH; install Debian's nginx (or run .ci/prepare as root) to run the reverse-proxy test")
	}
	return bin
}

// freePort reserves a loopback port for nginx, whose address the provider
// must know (as a redirect URI) before nginx starts.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// nginxFromExample renders examples/proxy/nginx.conf for this test: its
// addresses and key replaced, wrapped in a main config that keeps every
// file in dir and runs in the foreground.
func nginxFromExample(t testing.TB, dir, listen, stepgate, upstream, key string) string {
	t.Helper()
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "proxy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(example)
	for old, repl := range map[string]string{
		"server 127.0.0.1:8710;":                "server " + stepgate + ";",
		"server 127.0.0.1:8080;":                "server " + upstream + ";",
		"listen 127.0.0.1:8000;":                "listen " + listen + ";",
		"sgk_REPLACE_WITH_THE_NGINX_CLIENT_KEY": key,
	} {
		if !strings.Contains(conf, old) {
			t.Fatalf("examples/proxy/nginx.conf no longer contains %q", old)
		}
		conf = strings.ReplaceAll(conf, old, repl)
	}
	temp := func(name string) string { return filepath.Join(dir, name) }
	return fmt.Sprintf(`daemon off;
master_process off;
pid %s;
error_log %s info;
events { worker_connections 64; }
http {
    access_log %s;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;
%s
}
`, temp("nginx.pid"), temp("error.log"), temp("access.log"), temp("body"), temp("proxy"), temp("fastcgi"),
		temp("uwsgi"), temp("scgi"), conf)
}

// startNGINX runs nginx from the example until the test ends, and waits
// until it accepts connections on listen.
func startNGINX(t testing.TB, listen, stepgate, app, key string) {
	t.Helper()
	bin := requireNGINX(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(nginxFromExample(t, dir, listen, stepgate, app, key)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", file)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // this nginx only: its pid
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nnginx error.log:\n%s", out.String(), log)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s\n%s", waitErr, out.String(), log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not accept connections on %s", listen)
		}
	}
}

// upstream is the app behind the proxy (examples/proxy/upstream): it has
// no login of its own and shows which page it served to whom.
func upstream(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(proxiedapp.Handler())
	t.Cleanup(srv.Close)
	return srv
}
