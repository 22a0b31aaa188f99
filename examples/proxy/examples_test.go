// Package proxy_test checks the reverse-proxy examples no proxy binary
// runs here: examples/proxy/traefik.yml (Traefik is not packaged by
// Debian) and the docker-compose `proxy` profile. NGINX and Caddy run for
// real in pdp/forwardauth's tests.
package proxy_test

import (
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s is not valid YAML: %v", path, err)
	}
}

// traefikDynamic is the part of Traefik's dynamic configuration the
// example uses (file provider).
type traefikDynamic struct {
	HTTP struct {
		Middlewares map[string]struct {
			ForwardAuth *struct {
				Address             string   `yaml:"address"`
				TrustForwardHeader  *bool    `yaml:"trustForwardHeader"`
				AuthResponseHeaders []string `yaml:"authResponseHeaders"`
				AuthRequestHeaders  []string `yaml:"authRequestHeaders"`
			} `yaml:"forwardAuth"`
		} `yaml:"middlewares"`
		Routers map[string]struct {
			Rule        string   `yaml:"rule"`
			Middlewares []string `yaml:"middlewares"`
			Service     string   `yaml:"service"`
			Priority    int      `yaml:"priority"`
		} `yaml:"routers"`
		Services map[string]struct {
			LoadBalancer struct {
				PassHostHeader *bool `yaml:"passHostHeader"`
				Servers        []struct {
					URL string `yaml:"url"`
				} `yaml:"servers"`
			} `yaml:"loadBalancer"`
		} `yaml:"services"`
	} `yaml:"http"`
}

// TestTraefikExample checks examples/proxy/traefik.yml structurally: the
// forwardAuth middleware asks stepgate's /v1/forward-auth, builds the
// X-Forwarded-* headers itself (never trusting the client's, which would
// let a user name another URI), and copies X-Stepgate-Subject and
// X-Stepgate-Decision-Id to the app (Traefik removes a client's own copies
// of those first); the app's router uses it, and stepgate's callback and
// sign-out are routed to stepgate, ahead of the app and not behind the
// middleware.
func TestTraefikExample(t *testing.T) {
	var cfg traefikDynamic
	readYAML(t, "traefik.yml", &cfg)
	var name string
	for n, m := range cfg.HTTP.Middlewares {
		if m.ForwardAuth != nil {
			if name != "" {
				t.Fatalf("two forwardAuth middlewares: %s and %s", name, n)
			}
			name = n
		}
	}
	if name == "" {
		t.Fatal("no forwardAuth middleware")
	}
	fa := cfg.HTTP.Middlewares[name].ForwardAuth
	addr, err := url.Parse(fa.Address)
	if err != nil || addr.Path != "/v1/forward-auth" || addr.RawQuery != "" {
		t.Fatalf("forwardAuth.address %q: want stepgate's /v1/forward-auth", fa.Address)
	}
	if fa.TrustForwardHeader == nil || *fa.TrustForwardHeader {
		t.Fatal("forwardAuth.trustForwardHeader must be set to false: a client's X-Forwarded-Uri would choose the route")
	}
	for _, h := range []string{"X-Stepgate-Subject", "X-Stepgate-Decision-Id"} {
		if !slices.Contains(fa.AuthResponseHeaders, h) {
			t.Errorf("forwardAuth.authResponseHeaders %v lacks %s", fa.AuthResponseHeaders, h)
		}
	}
	if len(fa.AuthRequestHeaders) > 0 {
		for _, h := range []string{"Authorization", "Cookie", "Accept"} {
			if !slices.Contains(fa.AuthRequestHeaders, h) {
				t.Errorf("forwardAuth.authRequestHeaders %v lacks %s, which stepgate decides on", fa.AuthRequestHeaders, h)
			}
		}
	}

	var protected, pages bool
	for n, r := range cfg.HTTP.Routers {
		svc, ok := cfg.HTTP.Services[r.Service]
		if !ok || len(svc.LoadBalancer.Servers) == 0 {
			t.Fatalf("router %s: service %q is not defined", n, r.Service)
		}
		switch {
		case slices.Contains(r.Middlewares, name):
			protected = true
			if strings.Contains(svc.LoadBalancer.Servers[0].URL, addr.Host) {
				t.Errorf("router %s sends the app's traffic to stepgate", n)
			}
		case strings.Contains(r.Rule, "Path(`/_stepgate/callback`)") && strings.Contains(r.Rule, "Path(`/_stepgate/signout`)"):
			pages = true
			u, err := url.Parse(svc.LoadBalancer.Servers[0].URL)
			if err != nil || u.Host != addr.Host {
				t.Errorf("router %s: stepgate's pages go to %q, not to stepgate at %s", n, svc.LoadBalancer.Servers[0].URL, addr.Host)
			}
			if svc.LoadBalancer.PassHostHeader == nil || !*svc.LoadBalancer.PassHostHeader {
				t.Errorf("service %s must pass the browser's Host: the callback belongs to the app's host", r.Service)
			}
			for m, other := range cfg.HTTP.Routers {
				if m != n && r.Priority <= other.Priority {
					t.Errorf("router %s (priority %d) must come before %s (priority %d)", n, r.Priority, m, other.Priority)
				}
			}
		}
	}
	if !protected || !pages {
		t.Fatalf("want a router behind %s and one for stepgate's callback and sign-out; routers: %v", name, slices.Sorted(maps.Keys(cfg.HTTP.Routers)))
	}
}

// composeFile is the part of docker-compose.yml the proxy profile uses.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Profiles    []string          `yaml:"profiles"`
		NetworkMode string            `yaml:"network_mode"`
		Command     any               `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   any               `yaml:"depends_on"`
		Configs     []struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"configs"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
	Configs map[string]struct {
		Content string `yaml:"content"`
	} `yaml:"configs"`
}

// stepgateConfig is the part of stepgate.yaml the profile sets.
type stepgateConfig struct {
	Issuers []struct {
		Issuer    string   `yaml:"issuer"`
		Audiences []string `yaml:"audiences"`
		Authorize struct {
			ClientID    string `yaml:"client_id"`
			RedirectURI string `yaml:"redirect_uri"`
		} `yaml:"authorize"`
	} `yaml:"issuers"`
	Clients []struct {
		ID  string `yaml:"id"`
		Key string `yaml:"key"`
	} `yaml:"clients"`
	ForwardAuth struct {
		Client string `yaml:"client"`
		Routes []struct {
			Path   string `yaml:"path"`
			Action string `yaml:"action"`
		} `yaml:"routes"`
		Default struct {
			Action string `yaml:"action"`
		} `yaml:"default"`
	} `yaml:"forward_auth"`
}

// TestComposeProxyProfile checks docker-compose.yml's `proxy` profile
// without Docker: its services exist and use only files that exist; NGINX
// runs examples/proxy/nginx.conf with substitutions that still match it
// and the key stepgate knows the nginx client by; the provider, stepgate
// and NGINX agree on the issuer, the app client and its callback; /billing
// is the step-up route; and the demo policy is the shipped one plus
// app.view. With `docker compose` on PATH it also has Compose validate it.
func TestComposeProxyProfile(t *testing.T) {
	var c composeFile
	readYAML(t, filepath.Join(repoRoot, "docker-compose.yml"), &c)
	want := []string{"proxy-app", "proxy-idp", "proxy-nginx", "proxy-policy", "proxy-stepgate"}
	var got []string
	for name, s := range c.Services {
		if slices.Contains(s.Profiles, "proxy") {
			got = append(got, name)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("services of the proxy profile: %v, want %v", got, want)
	}
	for _, name := range want {
		s := c.Services[name]
		if s.Image == "" && s.Build == nil {
			t.Errorf("%s has neither image nor build", name)
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s mounts the undeclared volume %q", name, src)
			}
		}
		for _, cf := range s.Configs {
			if _, ok := c.Configs[cf.Source]; !ok {
				t.Errorf("%s uses the undeclared config %q", name, cf.Source)
			}
		}
		if b, ok := s.Build.(map[string]any); ok {
			df, _ := b["dockerfile"].(string)
			if _, err := os.Stat(filepath.Join(repoRoot, b["context"].(string), df)); err != nil {
				t.Errorf("%s builds with %s: %v", name, df, err)
			}
		}
	}

	// NGINX: the example with this profile's ports and key.
	nginx := c.Services["proxy-nginx"]
	cmd := strings.Join(anyStrings(nginx.Command), " ")
	example, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	subs := regexp.MustCompile(`-e ['"]s/([^/]+)/([^/]+)/['"]`).FindAllStringSubmatch(cmd, -1)
	if len(subs) != 3 || !strings.Contains(cmd, "/etc/stepgate/nginx.conf > /etc/nginx/conf.d/default.conf") {
		t.Fatalf("proxy-nginx's command does not render examples/proxy/nginx.conf with three substitutions: %s", cmd)
	}
	replaced := map[string]string{}
	for _, m := range subs {
		if !strings.Contains(string(example), m[1]) {
			t.Errorf("proxy-nginx replaces %q, which examples/proxy/nginx.conf no longer contains", m[1])
		}
		replaced[m[1]] = m[2]
	}
	nginxKey := nginx.Environment["STEPGATE_NGINX_CLIENT_KEY"]
	if replaced["sgk_REPLACE_WITH_THE_NGINX_CLIENT_KEY"] != "$$STEPGATE_NGINX_CLIENT_KEY" || nginxKey == "" {
		t.Errorf("proxy-nginx must put STEPGATE_NGINX_CLIENT_KEY in place of the example's key (substitutions %v)", replaced)
	}

	// stepgate: listening where NGINX sends the subrequests, NGINX's key.
	sg := c.Services["proxy-stepgate"]
	if want := replaced["127.0.0.1:8710"]; want == "" || sg.Environment["STEPGATE_DECISION_ADDR"] != want {
		t.Errorf("NGINX asks stepgate at %q, stepgate listens on %q", want, sg.Environment["STEPGATE_DECISION_ADDR"])
	}
	if want := replaced["127.0.0.1:8080"]; want == "" || c.Services["proxy-app"].Environment["PROXIED_APP_ADDR"] != want {
		t.Errorf("NGINX sends pages to %q, the app listens on %q", want, c.Services["proxy-app"].Environment["PROXIED_APP_ADDR"])
	}
	var cfg stepgateConfig
	if err := yaml.Unmarshal([]byte(c.Configs["proxy-stepgate-config"].Content), &cfg); err != nil {
		t.Fatalf("proxy-stepgate-config: %v", err)
	}
	fa := cfg.ForwardAuth
	var key string
	for _, cl := range cfg.Clients {
		if cl.ID == fa.Client {
			key = cl.Key
		}
	}
	if fa.Client == "" || key != nginxKey {
		t.Errorf("forward_auth.client %q has key %q; NGINX sends %q", fa.Client, key, nginxKey)
	}
	if len(fa.Routes) == 0 || fa.Routes[0].Path != "/billing/**" || fa.Routes[0].Action != "billing.view" || fa.Default.Action != "app.view" {
		t.Errorf("routes %+v, default %+v: want /billing/** → billing.view and app.view elsewhere", fa.Routes, fa.Default)
	}

	// The provider: the issuer stepgate trusts, the app client stepgate
	// signs in with, and NGINX's callback as its redirect URI.
	var idp struct {
		Port    int `json:"port"`
		Clients []struct {
			ClientID     string   `json:"client_id"`
			RedirectURIs []string `json:"redirect_uris"`
		} `json:"clients"`
		Users []struct {
			Username, Password, OTP string
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(c.Configs["proxy-idp-config"].Content), &idp); err != nil {
		t.Fatalf("proxy-idp-config: %v", err)
	}
	if len(cfg.Issuers) != 1 || len(idp.Clients) != 1 || len(idp.Users) != 1 {
		t.Fatalf("want one issuer, one provider client and one user: %+v %+v", cfg.Issuers, idp)
	}
	iss := cfg.Issuers[0]
	if iss.Issuer != "http://127.0.0.1:"+strconv.Itoa(idp.Port) {
		t.Errorf("stepgate trusts %s; the provider names itself http://127.0.0.1:%d", iss.Issuer, idp.Port)
	}
	listen := regexp.MustCompile(`listen ([0-9.:]+);`).FindStringSubmatch(string(example))
	callback := "http://" + listen[1] + "/_stepgate/callback"
	if iss.Authorize.ClientID != idp.Clients[0].ClientID || iss.Authorize.RedirectURI != callback ||
		!slices.Equal(idp.Clients[0].RedirectURIs, []string{callback}) || !slices.Contains(iss.Audiences, iss.Authorize.ClientID) {
		t.Errorf("authorize %+v, provider client %+v: want client %s coming back to NGINX's %s", iss.Authorize, idp.Clients[0], idp.Clients[0].ClientID, callback)
	}
	// The demo policy: the shipped table plus app.view, nothing else.
	var shipped, demo struct {
		Settings map[string]any            `json:"settings"`
		Actions  map[string]map[string]any `json:"actions"`
	}
	for path, into := range map[string]any{filepath.Join(repoRoot, "policies", "bundle", "stepgate", "data.json"): &shipped, filepath.Join("policy", "data.json"): &demo} {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if _, ok := demo.Actions["app.view"]; !ok || len(demo.Actions["app.view"]) != 1 {
		t.Errorf("the demo policy's app.view is %v: want a row with only a description (any signed-in user)", demo.Actions["app.view"])
	}
	delete(demo.Actions, "app.view")
	shippedJS, _ := json.Marshal(shipped)
	demoJS, _ := json.Marshal(demo)
	if string(shippedJS) != string(demoJS) {
		t.Errorf("examples/proxy/policy/data.json drifted from policies/bundle/stepgate/data.json beyond app.view:\n%s\n%s", demoJS, shippedJS)
	}
	mounted := strings.Join(c.Services["proxy-policy"].Volumes, " ")
	if !strings.Contains(mounted, "./policies/bundle:/etc/stepgate/bundle:ro") || !strings.Contains(mounted, "./examples/proxy/policy/data.json:/etc/stepgate/bundle/stepgate/data.json:ro") {
		t.Errorf("proxy-policy does not push the shipped bundle with the demo table: %s", mounted)
	}

	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Log("docker compose is not available here: Compose itself did not validate the file")
		return
	}
	out, err := exec.Command("docker", "compose", "-f", filepath.Join(repoRoot, "docker-compose.yml"), "--profile", "proxy", "config", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, out)
	}
}

// anyStrings is a Compose command, list or string form, as words.
func anyStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, w := range v {
			s, _ := w.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}
