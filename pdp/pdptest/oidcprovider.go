//go:build unix

package pdptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Login outcomes of the test provider (testdata/oidc-provider/provider.mjs).
const (
	// ProviderACRPassword is the acr of a password-only login. A login with
	// the correct one-time code gets pdp.PAPEMultiFactor and amr
	// ["pwd","otp","mfa"].
	ProviderACRPassword = "urn:stepgate:pwd"
	// TestUsername, TestPassword and TestOTP are the credentials of the
	// default user, whose sub is also TestUsername.
	TestUsername = "alice"
	TestPassword = "alice-password"
	TestOTP      = "123456"
)

// ProviderConfig configures one test provider process.
type ProviderConfig struct {
	// Clients registered at start. Build them with AppClient and CIBAClient.
	Clients []ProviderClient
	// Users who can log in or be named in a CIBA hint; default: one user
	// TestUsername / TestPassword / TestOTP.
	Users []ProviderUser
	// Resource is the audience of JWT access tokens; default
	// "https://api.stepgate.test".
	Resource string
	// Dir holds provider.mjs and node_modules; default: testdata/oidc-provider
	// under the module root, found by walking up from the working directory.
	Dir string
	// StartTimeout bounds the wait for the issuer line; default 60 s, because
	// Node and the RSA key it generates start slowly on a loaded 2-core
	// machine running several test packages at once.
	StartTimeout time.Duration
}

// ProviderClient is one OAuth client of the test provider.
type ProviderClient struct {
	ID string
	// Secret empty means a public client (token_endpoint_auth_method none).
	Secret string
	// AuthMethod defaults to client_secret_basic for confidential clients.
	AuthMethod string
	// RedirectURIs enable the authorization code flow (PKCE S256 is always
	// required by the provider). They must not be on the provider's origin.
	RedirectURIs []string
	// CIBA enables the CIBA grant in poll mode.
	CIBA bool
}

// ProviderUser is one account of the test provider. A CIBA login_hint may
// name it by Sub, Username, Email or Auth0's iss_sub JSON.
type ProviderUser struct {
	Sub      string `json:"sub"`
	Username string `json:"username"`
	Password string `json:"password"`
	OTP      string `json:"otp"`
	Email    string `json:"email"`
	// UserCode, when set, must accompany CIBA requests for this user.
	UserCode string `json:"user_code,omitempty"`
}

// AppClient returns a public browser client using the code flow with PKCE.
func AppClient(id, redirectURI string) ProviderClient {
	return ProviderClient{ID: id, RedirectURIs: []string{redirectURI}}
}

// CIBAClient returns a confidential CIBA client in poll mode.
func CIBAClient(id, secret string) ProviderClient {
	return ProviderClient{ID: id, Secret: secret, CIBA: true}
}

// OIDCProvider is a running test provider. It is stopped when the test ends.
type OIDCProvider struct {
	issuer  string
	meta    providerMetadata
	http    *http.Client
	browser *Browser
	cmd     *exec.Cmd
	stderr  *syncBuffer
	done    chan struct{}
}

// StartOIDCProvider starts testdata/oidc-provider/provider.mjs with node and
// waits for its issuer line. Without node or node_modules the test is skipped,
// unless env CI is "true", where it fails: CI must run `npm ci` first.
func StartOIDCProvider(t testing.TB, cfg ProviderConfig) *OIDCProvider {
	t.Helper()
	dir, err := providerDir(cfg.Dir)
	if err != nil {
		unavailable(t, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, fmt.Errorf("node not found in PATH: %w", err))
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		unavailable(t, fmt.Errorf("oidc-provider is not installed (run `npm ci` in %s): %w", dir, err))
	}
	config, err := json.Marshal(cfg.scriptConfig())
	if err != nil {
		t.Fatalf("encode provider config: %v", err)
	}

	cmd := exec.Command(node, "provider.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "STEPGATE_IDP_CONFIG="+string(config))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so Cleanup can end node's whole group
	p := &OIDCProvider{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	stdout := &firstLine{line: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start provider: %v", err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("oidc-provider stderr:\n%s", p.stderr.String())
		}
	})

	issuer, err := p.awaitIssuer(stdout.line, cfg.startTimeout())
	if err != nil {
		t.Fatalf("start provider: %v\nstderr:\n%s", err, p.stderr.String())
	}
	p.issuer = issuer
	p.http = &http.Client{Timeout: 10 * time.Second}
	if p.meta, err = fetchMetadata(p.http, issuer); err != nil {
		t.Fatalf("start provider: %v", err)
	}
	p.browser = p.NewBrowser()
	return p
}

// Issuer is the provider's issuer URL, http://127.0.0.1:PORT.
func (p *OIDCProvider) Issuer() string { return p.issuer }

// AuthorizationEndpoint is the discovered authorization_endpoint.
func (p *OIDCProvider) AuthorizationEndpoint() string { return p.meta.AuthorizationEndpoint }

// TokenEndpoint is the discovered token_endpoint.
func (p *OIDCProvider) TokenEndpoint() string { return p.meta.TokenEndpoint }

// BackchannelEndpoint is the discovered backchannel_authentication_endpoint.
func (p *OIDCProvider) BackchannelEndpoint() string { return p.meta.BackchannelEndpoint }

// awaitIssuer waits for the `ISSUER <url>` line, for the process to end, or
// for the timeout.
func (p *OIDCProvider) awaitIssuer(lines <-chan string, timeout time.Duration) (string, error) {
	pid := p.cmd.Process.Pid
	select {
	case line := <-lines:
		issuer, found := strings.CutPrefix(line, "ISSUER ")
		if !found || !strings.HasPrefix(issuer, "http://127.0.0.1:") {
			return "", fmt.Errorf("provider (pid %d) printed %q instead of its issuer", pid, line)
		}
		return issuer, nil
	case <-p.done:
		return "", fmt.Errorf("provider (pid %d) exited before printing its issuer: %v", pid, p.cmd.ProcessState)
	case <-time.After(timeout):
		return "", fmt.Errorf("provider (pid %d) printed no issuer within %s", pid, timeout)
	}
}

// firstLine is the provider's stdout: it hands over the first line and
// discards the rest, so the provider never blocks on a full pipe.
type firstLine struct {
	buf  []byte
	sent bool
	line chan string
}

func (w *firstLine) Write(b []byte) (int, error) {
	if w.sent {
		return len(b), nil
	}
	w.buf = append(w.buf, b...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
		w.line <- string(w.buf[:i])
		w.sent, w.buf = true, nil
	}
	return len(b), nil
}

// stop ends the provider's process group: SIGTERM, then SIGKILL after 5 s.
func (p *OIDCProvider) stop() {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("test OpenID provider unavailable in CI: %v", err)
	}
	t.Skipf("skipping: test OpenID provider unavailable: %v", err)
}

// providerDir returns dir, or testdata/oidc-provider under the module root.
func providerDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("locate testdata/oidc-provider: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "testdata", "oidc-provider"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("locate testdata/oidc-provider: no go.mod above " + wd)
		}
	}
}

func (cfg ProviderConfig) startTimeout() time.Duration {
	if cfg.StartTimeout > 0 {
		return cfg.StartTimeout
	}
	return 60 * time.Second
}

// syncBuffer collects the provider's stderr for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep memory bounded on a chatty provider
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
