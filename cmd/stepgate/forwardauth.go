package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stepgate/stepgate/pdp"
	"github.com/stepgate/stepgate/pdp/forwardauth"
	"github.com/stepgate/stepgate/pdp/pdphttp"
	"github.com/stepgate/stepgate/pdp/session"
	"github.com/stepgate/stepgate/pdp/stepup"
	"github.com/stepgate/stepgate/pdp/trust"
)

// ForwardAuthConfig turns on /v1/forward-auth for a reverse proxy (NGINX
// auth_request, Traefik ForwardAuth, Caddy forward_auth) and stepgate's own
// browser sign-in behind it. See README, "Behind a reverse proxy".
type ForwardAuthConfig struct {
	// Client is the decision API client the proxy is (required): the
	// proxy sends its key in X-Stepgate-Client-Key (no other client's key
	// is accepted), and decisions are audited under it.
	Client string `yaml:"client"`
	// TrustedProxies are CIDRs (e.g. 10.0.0.5/32) whose subrequests count
	// as Client without a key, for proxies that cannot add a header.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Routes map host, methods and path to an action; the first match wins.
	Routes []forwardauth.Route `yaml:"routes"`
	// Default is for unmatched requests: an action, or deny: true (required).
	Default forwardauth.DefaultRoute `yaml:"default"`
	// ActionHeader lets the proxy name the action in X-Stepgate-Action.
	// Only for proxies that set or remove that header on every subrequest;
	// default false.
	ActionHeader bool `yaml:"action_header"`
	// Issuer signs browsers in; default the only issuer with an authorize
	// client. <origin><callback_path> of every protected host must be a
	// redirect URI of that client.
	Issuer string `yaml:"issuer"`
	// ClientSecret of the authorize client, when it is confidential.
	ClientSecret string `yaml:"client_secret"`
	// CallbackPath default /_stepgate/callback; SignOutPath default
	// /_stepgate/signout. The proxy routes both to stepgate.
	CallbackPath string `yaml:"callback_path"`
	SignOutPath  string `yaml:"signout_path"`
	// CookieName default stepgate_session.
	CookieName string `yaml:"cookie_name"`
	// CookieKeys are base64 keys of at least 32 bytes, newest first: the
	// first seals, all open. Rotate by prepending a key; drop the old one
	// after session_ttl. Empty: cookie_key_file.
	CookieKeys []string `yaml:"cookie_keys"`
	// CookieKeyFile holds the keys one per line, newest first; default
	// <data_dir>/forward-auth-cookie.keys, generated on first start.
	CookieKeyFile string `yaml:"cookie_key_file"`
	// SessionTTL is how long a sign-in lasts; default 8h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// ExtAuthzAddr serves Envoy's ext_authz (gRPC) on its own listener,
	// e.g. 127.0.0.1:8712, with the same answers as /v1/forward-auth
	// (STEPGATE_EXT_AUTHZ_ADDR); empty leaves it off.
	ExtAuthzAddr string `yaml:"ext_authz_addr"`
}

// validate checks what can be checked without the issuers.
func (f *ForwardAuthConfig) validate() error {
	var errs []error
	if f.Client == "" {
		errs = append(errs, errors.New("forward_auth.client is required: the decision API client the proxy is"))
	}
	if _, err := f.trustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if _, err := forwardauth.NewTable(f.Routes, f.Default); err != nil {
		errs = append(errs, err)
	}
	if _, err := decodeCookieKeys(f.CookieKeys, "forward_auth.cookie_keys"); len(f.CookieKeys) > 0 && err != nil {
		errs = append(errs, err)
	}
	if f.SessionTTL < 0 {
		errs = append(errs, errors.New("forward_auth.session_ttl must not be negative"))
	}
	return errors.Join(errs...)
}

func (f *ForwardAuthConfig) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range f.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("forward_auth.trusted_proxies: %w", err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// registerForwardAuth adds forward auth to the decision API when
// forward_auth is configured.
func registerForwardAuth(api *pdphttp.Server, cfg Config, svc *pdp.Service, verifier *trust.Verifier,
	txs stepup.TransactionStore, sessions *session.Sessions, log *slog.Logger) error {
	f := cfg.ForwardAuth
	if f == nil {
		return nil
	}
	proxies, err := f.trustedProxies()
	if err != nil {
		return err
	}
	h, err := forwardAuthHandler(cfg, svc, verifier, txs, sessions, log)
	if err != nil {
		return err
	}
	return api.RegisterForwardAuth(pdphttp.ForwardAuthConfig{Handler: h, Client: f.Client, TrustedProxies: proxies})
}

// cookieKeys are the configured keys, else the key file's, generating the
// file with one key on first start.
func (f *ForwardAuthConfig) cookieKeys(dataDir string, log *slog.Logger) ([][]byte, error) {
	if len(f.CookieKeys) > 0 {
		return decodeCookieKeys(f.CookieKeys, "forward_auth.cookie_keys")
	}
	file := f.CookieKeyFile
	if file == "" {
		file = filepath.Join(dataDir, "forward-auth-cookie.keys")
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, fmt.Errorf("forward_auth: cookie key file: %w", err)
		}
		line := base64.StdEncoding.EncodeToString(key) + "\n"
		if err := os.WriteFile(file, []byte(line), 0o600); err != nil {
			return nil, fmt.Errorf("forward_auth: cookie key file: %w", err)
		}
		log.Warn("forward auth: generated a cookie key; keep the file secret and share it between replicas", "file", file)
		return [][]byte{key}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("forward_auth: cookie key file: %w", err)
	}
	var lines []string
	for l := range strings.Lines(string(b)) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return decodeCookieKeys(lines, file)
}

func decodeCookieKeys(in []string, where string) ([][]byte, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("%s: no keys", where)
	}
	out := make([][]byte, 0, len(in))
	for i, s := range in {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s: key %d is not base64", where, i)
		}
		if len(k) < forwardauth.MinKeyBytes {
			return nil, fmt.Errorf("%s: key %d is %d bytes; want at least %d", where, i, len(k), forwardauth.MinKeyBytes)
		}
		out = append(out, k)
	}
	return out, nil
}
